"""Correct: no copies; query heads reshaped into (kv_heads, group) and einsum."""

import torch
import torch.nn as nn


class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, num_heads, num_kv_heads):
        super().__init__()
        self.h, self.kv, self.dh = num_heads, num_kv_heads, d_model // num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, num_kv_heads * self.dh)
        self.W_V = nn.Linear(d_model, num_kv_heads * self.dh)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(self, Q, K, V, mask=None):
        b, sq, d = Q.shape
        sk = K.shape[1]
        g = self.h // self.kv
        q = self.W_Q(Q).view(b, sq, self.kv, g, self.dh)
        k = self.W_K(K).view(b, sk, self.kv, self.dh)
        v = self.W_V(V).view(b, sk, self.kv, self.dh)
        scores = torch.einsum("bqngd,bknd->bngqk", q, k) / self.dh**0.5
        if mask is not None:
            scores = scores.reshape(b, self.h, sq, sk).masked_fill(mask == 0, float("-inf"))
            scores = scores.view(b, self.kv, g, sq, sk)
        w = scores.softmax(-1)
        out = torch.einsum("bngqk,bknd->bqngd", w, v).reshape(b, sq, d)
        return self.W_O(out)
