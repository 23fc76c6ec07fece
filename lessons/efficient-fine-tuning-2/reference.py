"""Reference LoRA layer (Hu et al., 2021): what efficient-fine-tuning-2 checks against."""

from __future__ import annotations

import math

import torch
from torch import nn


class LoRALinear(nn.Module):
    """``base(x) + (alpha / r) * x @ A^T @ B^T`` with ``base`` frozen, A random, B zero."""

    def __init__(self, base: nn.Linear, r: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.base.requires_grad_(False)
        self.scaling = alpha / r
        weight = base.weight
        self.lora_A = nn.Parameter(
            torch.empty(r, base.in_features, dtype=weight.dtype, device=weight.device)
        )
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = nn.Parameter(
            torch.zeros(base.out_features, r, dtype=weight.dtype, device=weight.device)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scaling * (x @ self.lora_A.T @ self.lora_B.T)

    def merge(self) -> nn.Linear:
        weight = self.base.weight
        merged = nn.Linear(
            self.base.in_features,
            self.base.out_features,
            bias=self.base.bias is not None,
            dtype=weight.dtype,
            device=weight.device,
        )
        with torch.no_grad():
            merged.weight.copy_(weight + self.scaling * self.lora_B @ self.lora_A)
            if self.base.bias is not None:
                merged.bias.copy_(self.base.bias)
        return merged


def train(module: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float) -> nn.Module:
    """``steps`` of plain SGD on the mean squared error, over the trainable parameters only:
    the probe runs the same loop on the learner's layer and the checks replay it here.
    By hand, as torch.optim.SGD computes it: its first use imports torch._dynamo (~1 s)."""
    parameters = [p for p in module.parameters() if p.requires_grad]
    for _ in range(steps):
        ((module(x) - y) ** 2).mean().backward()
        with torch.no_grad():
            for parameter in parameters:
                parameter -= lr * parameter.grad
                parameter.grad = None
    return module
