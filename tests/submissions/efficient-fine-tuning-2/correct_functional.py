import copy

import torch
import torch.nn.functional as F
from torch import nn


class LoRALinear(nn.Module):
    """Two chained linear maps for the update; randn / r for A, as some repositories do."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.r = r
        self.alpha = alpha
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features) / r)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))

    def forward(self, x):
        update = F.linear(F.linear(x, self.lora_A), self.lora_B)
        return self.base(x) + update * (self.alpha / self.r)

    def merge(self):
        merged = copy.deepcopy(self.base)
        merged.weight.data += (self.alpha / self.r) * self.lora_B.data @ self.lora_A.data
        return merged
