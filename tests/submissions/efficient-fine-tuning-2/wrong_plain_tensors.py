import torch
from torch import nn


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.base.requires_grad_(False)
        self.scaling = alpha / r
        self.lora_A = torch.randn(r, base.in_features, requires_grad=True) * 0.01
        self.lora_B = torch.zeros(base.out_features, r, requires_grad=True)

    def forward(self, x):
        return self.base(x) + self.scaling * (x @ self.lora_A.T @ self.lora_B.T)

    def merge(self):
        merged = nn.Linear(self.base.in_features, self.base.out_features)
        merged.weight.data = self.base.weight + self.scaling * self.lora_B @ self.lora_A
        merged.bias.data = self.base.bias.clone()
        return merged
