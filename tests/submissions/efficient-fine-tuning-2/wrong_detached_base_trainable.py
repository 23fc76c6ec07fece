import math

import torch
import torch.nn.functional as F
from torch import nn


class LoRALinear(nn.Module):
    """The base is kept out of the graph with .detach(), but never frozen."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.scaling = alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x):
        bias = None if self.base.bias is None else self.base.bias.detach()
        frozen = F.linear(x, self.base.weight.detach(), bias)
        return frozen + self.scaling * (x @ self.lora_A.T @ self.lora_B.T)

    def merge(self):
        merged = nn.Linear(
            self.base.in_features, self.base.out_features, bias=self.base.bias is not None
        )
        merged.to(self.base.weight)
        with torch.no_grad():
            merged.weight.copy_(self.base.weight + self.scaling * self.lora_B @ self.lora_A)
            if self.base.bias is not None:
                merged.bias.copy_(self.base.bias)
        return merged
