import torch
from torch import nn


class CachedMultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.n_heads = num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(self, x, cache=None):
        b, t, d = x.shape
        hd = d // self.n_heads
        q = self.W_Q(x).reshape(b, t, self.n_heads, hd).permute(0, 2, 1, 3)
        k = self.W_K(x).reshape(b, t, self.n_heads, hd).permute(0, 2, 1, 3)
        v = self.W_V(x).reshape(b, t, self.n_heads, hd).permute(0, 2, 1, 3)
        offset = 0
        if cache is not None:
            offset = cache[0].shape[2]
            k = torch.cat((cache[0], k), 2)
            v = torch.cat((cache[1], v), 2)
        att = torch.einsum("bhqd,bhkd->bhqk", q, k) * hd**-0.5
        i = torch.arange(t, device=x.device).view(-1, 1) + offset
        j = torch.arange(k.shape[2], device=x.device).view(1, -1)
        att = torch.where(j <= i, att, torch.full_like(att, float("-inf")))
        y = torch.einsum("bhqk,bhkd->bhqd", att.softmax(-1), v)
        y = y.permute(0, 2, 1, 3).reshape(b, t, d)
        return self.W_O(y), (k, v)
