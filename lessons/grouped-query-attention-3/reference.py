"""Reference grouped-query attention: the trusted answer the checks compare against.

Query head i reads key/value head i // (num_heads // num_kv_heads), the grouping of
Llama's ``repeat_kv`` (each K/V head repeated for consecutive query heads).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class GroupedQueryAttention(nn.Module):
    """num_heads query heads share num_kv_heads key/value heads."""

    def __init__(self, d_model: int, num_heads: int, num_kv_heads: int) -> None:
        super().__init__()
        if d_model % num_heads or num_heads % num_kv_heads:
            raise ValueError("need d_model % num_heads == 0 and num_heads % num_kv_heads == 0")
        self.num_heads, self.num_kv_heads = num_heads, num_kv_heads
        self.d_head = d_model // num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, num_kv_heads * self.d_head)
        self.W_V = nn.Linear(d_model, num_kv_heads * self.d_head)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(
        self,
        Q: torch.Tensor,  # noqa: N803 - the interface names follow the paper
        K: torch.Tensor,  # noqa: N803
        V: torch.Tensor,  # noqa: N803
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b, sq, d = Q.shape
        sk = K.shape[1]
        q = self.W_Q(Q).view(b, sq, self.num_heads, self.d_head).transpose(1, 2)
        k = self.W_K(K).view(b, sk, self.num_kv_heads, self.d_head).transpose(1, 2)
        v = self.W_V(V).view(b, sk, self.num_kv_heads, self.d_head).transpose(1, 2)
        group = self.num_heads // self.num_kv_heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(b, sq, d)
        return self.W_O(out), weights
