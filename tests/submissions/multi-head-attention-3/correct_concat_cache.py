import math

import torch
from torch import nn


class CachedMultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h = num_heads
        self.d_head = d_model // num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)

    def split(self, t):
        b, n, _ = t.shape
        return t.view(b, n, self.h, self.d_head).transpose(1, 2)

    def forward(self, x, cache=None):
        b, n, d = x.shape
        q, k, v = self.split(self.W_Q(x)), self.split(self.W_K(x)), self.split(self.W_V(x))
        if cache is not None:
            past_k, past_v = cache
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        past = k.size(2) - n
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        future = torch.ones(n, k.size(2), dtype=torch.bool, device=x.device).triu(past + 1)
        scores = scores.masked_fill(future, float("-inf"))
        out = scores.softmax(dim=-1) @ v
        out = out.transpose(1, 2).reshape(b, n, d)
        return self.W_O(out), (k, v)
