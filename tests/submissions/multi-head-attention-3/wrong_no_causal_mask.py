"""Mistake: no causal mask at all (fine for one new token, wrong for the prompt)."""

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
        split = lambda t: t.view(b, n, self.h, -1).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.W_Q(x)), split(self.W_K(x)), split(self.W_V(x))
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.h)
        out = (scores.softmax(-1) @ v).transpose(1, 2)
        return self.W_O(out.reshape(b, n, d)), (k, v)
