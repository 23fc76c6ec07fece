"""Mistake: caches the projections before the head split, (batch, seq, d_model)."""

import math

import torch
from torch import nn


class CachedMultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h = num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(self, x, cache=None):
        b, n, d = x.shape
        keys, values = self.W_K(x), self.W_V(x)
        if cache is not None:
            keys, values = torch.cat([cache[0], keys], dim=1), torch.cat([cache[1], values], dim=1)
        total = keys.shape[1]
        split = lambda t: t.view(b, t.shape[1], self.h, -1).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.W_Q(x)), split(keys), split(values)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.h)
        future = torch.ones(n, total, dtype=torch.bool).triu(total - n + 1)
        out = (scores.masked_fill(future, float("-inf")).softmax(-1) @ v).transpose(1, 2)
        return self.W_O(out.reshape(b, n, d)), (keys, values)
