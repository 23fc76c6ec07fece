import torch
import torch.nn.functional as F
from torch import nn


class LoRALinear(nn.Module):
    """forward through the merged weight W + s * B @ A: one matmul, same numbers."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        base.weight.requires_grad_(False)
        if base.bias is not None:
            base.bias.requires_grad_(False)
        self.scale = alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features).normal_(std=0.02))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))

    def delta(self):
        return self.scale * self.lora_B @ self.lora_A

    def forward(self, x):
        return F.linear(x, self.base.weight + self.delta(), self.base.bias)

    def merge(self):
        out_f, in_f = self.base.weight.shape
        layer = nn.Linear(in_f, out_f, bias=self.base.bias is not None).to(self.base.weight)
        layer.weight.data.copy_(self.base.weight + self.delta())
        if self.base.bias is not None:
            layer.bias.data.copy_(self.base.bias)
        layer.requires_grad_(False)
        return layer
