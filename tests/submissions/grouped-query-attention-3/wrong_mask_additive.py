"""Wrong: adds the 0/1 mask to the scores instead of hiding positions with -inf."""

import math

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
        q = self.W_Q(Q).view(b, sq, self.h, self.dh).transpose(1, 2)
        k = self.W_K(K).view(b, sk, self.kv, self.dh).transpose(1, 2)
        v = self.W_V(V).view(b, sk, self.kv, self.dh).transpose(1, 2)
        k = k.repeat_interleave(self.h // self.kv, dim=1)
        v = v.repeat_interleave(self.h // self.kv, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.dh)
        if mask is not None:
            scores = scores + mask.to(scores.dtype)
        w = scores.softmax(-1)
        return self.W_O((w @ v).transpose(1, 2).reshape(b, sq, d)), w
