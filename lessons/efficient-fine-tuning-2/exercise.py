"""LoRA: fill in the TODOs, then `tracker submit efficient-fine-tuning-2 FILE`."""

import math

import torch
from torch import nn


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update.

    LoRALinear(base, r, alpha) keeps:
      self.base    the given nn.Linear, with its weight and bias frozen (requires_grad False)
      self.lora_A  nn.Parameter of shape (r, in_features), random and non-zero
      self.lora_B  nn.Parameter of shape (out_features, r), zeros
    forward(x) = base(x) + (alpha / r) * (x @ lora_A.T @ lora_B.T), for x of shape (..., in_features)
    merge()    returns a new nn.Linear whose weight is W + (alpha / r) * lora_B @ lora_A (and whose
               bias is the base's), giving the same output as forward, without changing self.
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        # TODO 1: freeze the base layer (its weight and, if it has one, its bias).
        # TODO 2: self.lora_A (r, in_features), random; self.lora_B (out_features, r), zeros.
        #         Create them with the base weight's dtype and device.
        # TODO 3: remember the scale alpha / r.
        raise NotImplementedError("LoRALinear.__init__ is not written yet")

    def forward(self, x):
        # TODO 4: base(x) plus the scaled low-rank path.
        raise NotImplementedError("LoRALinear.forward is not written yet")

    def merge(self):
        # TODO 5: a new nn.Linear with the merged weight and the base's bias.
        raise NotImplementedError("LoRALinear.merge is not written yet")
