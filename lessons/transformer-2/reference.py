"""Reference pre-norm transformer block: the trusted answer the checks compare against.

x = x + dropout(attn(ln1(x), mask)); x = x + dropout(ff2(gelu(ff1(ln2(x))))). Each
sub-layer reads a normalised copy of the residual stream and adds its output to the
stream itself, which is never normalised inside the block (GPT-2 and later).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention with W_Q, W_K, W_V, W_O as nn.Linear(d_model, d_model); the
    per-head maths is PyTorch's (multi-head-attention-2 is where it is written by hand)."""

    def __init__(self, d_model: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        for name in ("W_Q", "W_K", "W_V", "W_O"):
            setattr(self, name, nn.Linear(d_model, d_model))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = (
            layer(x).unflatten(-1, (self.num_heads, -1)).transpose(1, 2)
            for layer in (self.W_Q, self.W_K, self.W_V)
        )
        keep = None if mask is None else mask != 0
        heads = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        return self.W_O(heads.transpose(1, 2).flatten(-2))


class TransformerBlock(nn.Module):
    """A pre-norm block: LayerNorm, self-attention, LayerNorm, GELU feed-forward, residuals."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadSelfAttention(d_model, num_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_ff, d_model)
        self.act = nn.GELU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.dropout(self.attn(self.ln1(x), mask))
        return x + self.dropout(self.ff2(self.act(self.ff1(self.ln2(x)))))
