"""Functional style: F.layer_norm, fused attention with a bool mask, F.gelu, F.dropout."""

import torch
import torch.nn.functional as F
from torch import nn


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.heads = num_heads
        self.W_Q, self.W_K = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.W_V, self.W_O = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        def heads(t):
            return t.unflatten(-1, (self.heads, -1)).transpose(1, 2)

        keep = None if mask is None else mask.bool()
        out = F.scaled_dot_product_attention(
            heads(self.W_Q(x)), heads(self.W_K(x)), heads(self.W_V(x)), attn_mask=keep
        )
        return self.W_O(out.transpose(1, 2).flatten(-2))


class TransformerBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.0):
        super().__init__()
        self.p = dropout
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = MultiHeadSelfAttention(d_model, num_heads)
        self.ff1, self.ff2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, x, mask=None):
        d = x.shape[-1]
        h = F.layer_norm(x, (d,), self.ln1.weight, self.ln1.bias, self.ln1.eps)
        x = x + F.dropout(self.attn(h, mask), self.p, self.training)
        h = F.layer_norm(x, (d,), self.ln2.weight, self.ln2.bias, self.ln2.eps)
        return x + F.dropout(self.ff2(F.gelu(self.ff1(h))), self.p, self.training)
