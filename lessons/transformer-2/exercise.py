"""A pre-norm transformer block: fill in the TODOs, then `tracker submit transformer-2 FILE`."""

import math

import torch
from torch import nn


class MultiHeadSelfAttention(nn.Module):
    """Self-attention of x with itself; your multi-head-attention-2 code fits here."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        """x: (batch, seq, d_model); mask as in TransformerBlock.forward. Returns (batch, seq, d_model)."""
        # TODO: project, split into heads, softmax(q k^T / sqrt(d_head)) with hidden positions
        #       at -inf, weighted sum of v, merge the heads, W_O.
        raise NotImplementedError("MultiHeadSelfAttention.forward is not written yet")


class TransformerBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.0):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = MultiHeadSelfAttention(d_model, num_heads)
        self.ff1, self.ff2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)  # GELU between
        self.dropout = nn.Dropout(dropout)  # on each sub-layer's output

    def forward(self, x, mask=None):
        """x: (batch, seq, d_model); mask (optional) broadcasts to (batch, num_heads, seq, seq),
        1/True keeps a position. Returns (batch, seq, d_model).
        """
        # TODO 1: the attention sub-layer: normalise a copy of x with ln1, attend, dropout, and
        #         add the result to x itself (the residual stream is never normalised here).
        # TODO 2: the feed-forward sub-layer the same way: ln2, ff1, GELU, ff2, dropout, add.
        raise NotImplementedError("TransformerBlock.forward is not written yet")
