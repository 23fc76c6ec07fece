"""Wrong: assumes a (batch, seq_q, seq_k) mask and unsqueezes it."""

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
        q = self.W_Q(Q).view(b, sq, h, dk).transpose(1, 2)
        k = self.W_K(K).view(b, sk, h, dk).transpose(1, 2)
        v = self.W_V(V).view(b, sk, h, dk).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(dk)
        if mask is not None:
            scores = scores.masked_fill(mask.unsqueeze(1) == 0, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(b, sq, self.d_model)
        return self.W_O(out), weights
