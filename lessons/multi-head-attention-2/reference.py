"""Reference multi-head attention: the trusted answer the checks compare against.

Written for clarity, not speed: split into heads with view + transpose, scaled
dot-product attention per head, merge back, output projection.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class SimpleMultiHeadAttention(nn.Module):
    """Multi-head attention with W_Q, W_K, W_V, W_O as nn.Linear(d_model, d_model)."""

    def __init__(self, d_model: int = 512, num_heads: int = 8, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, _ = x.shape
        return x.view(batch, seq, self.num_heads, self.d_k).transpose(1, 2)

    def forward(
        self,
        Q: torch.Tensor,  # noqa: N803 - the interface names follow the paper
        K: torch.Tensor,  # noqa: N803
        V: torch.Tensor,  # noqa: N803
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = self._split(self.W_Q(Q)), self._split(self.W_K(K)), self._split(self.W_V(V))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        heads = self.dropout(weights) @ v
        batch, seq_q = Q.shape[0], Q.shape[1]
        merged = heads.transpose(1, 2).reshape(batch, seq_q, self.d_model)
        return self.W_O(merged), weights
