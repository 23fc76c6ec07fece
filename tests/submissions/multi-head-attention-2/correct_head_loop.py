"""Correct: a Python loop over heads slicing the projections."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SimpleMultiHeadAttention(nn.Module):
    def __init__(self, d_model=512, num_heads=8):
        super().__init__()
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(self, Q, K, V, mask=None):
        b, sq, sk = Q.shape[0], Q.shape[1], K.shape[1]
        h, dk = self.num_heads, self.d_k
        q, k, v = self.W_Q(Q), self.W_K(K), self.W_V(V)
        outs, all_weights = [], []
        for i in range(h):
            part = slice(i * dk, (i + 1) * dk)
            s = q[..., part] @ k[..., part].transpose(-2, -1) / math.sqrt(dk)
            if mask is not None:
                m = torch.broadcast_to(mask, (b, h, sq, sk))[:, i]
                s = s.masked_fill(m == 0, float("-inf"))
            w = torch.softmax(s, dim=-1)
            outs.append(w @ v[..., part])
            all_weights.append(w)
        return self.W_O(torch.cat(outs, dim=-1)), torch.stack(all_weights, dim=1)
