"""Correct: unflatten/permute to split, flatten to merge."""

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
        q = self.W_Q(Q).unflatten(-1, (h, dk)).permute(0, 2, 1, 3)
        k = self.W_K(K).unflatten(-1, (h, dk)).permute(0, 2, 1, 3)
        v = self.W_V(V).unflatten(-1, (h, dk)).permute(0, 2, 1, 3)
        scores = (q / math.sqrt(dk)) @ k.transpose(-1, -2)
        if mask is not None:
            scores = scores.masked_fill(~mask.bool(), float("-inf"))
        weights = F.softmax(scores, dim=-1)
        out = (weights @ v).permute(0, 2, 1, 3).flatten(2)
        return self.W_O(out), weights
