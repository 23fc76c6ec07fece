"""Reference multi-head self-attention with a key/value cache for autoregressive decoding.

``forward(x, cache)`` projects only the new tokens ``x``, appends their keys and values
to the cache along the sequence axis, and lets each new token attend to every cached
position up to its own: the new token at absolute position ``past + i`` sees keys
``0 .. past + i`` (a causal mask aligned to the end of the keys). Decoding a sequence
in any split (one token at a time, or chunks) gives the outputs of full causal
attention over the whole sequence.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class CachedMultiHeadAttention(nn.Module):
    """Causal multi-head self-attention; ``cache`` is ``(keys, values)``, each
    ``(batch, num_heads, seq_past, d_head)``."""

    def __init__(self, d_model: int, num_heads: int) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        self.num_heads, self.d_head = num_heads, d_model // num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, _ = x.shape
        return x.view(batch, seq, self.num_heads, self.d_head).transpose(1, 2)

    def forward(
        self, x: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        batch, new, d_model = x.shape
        q, k, v = self._split(self.W_Q(x)), self._split(self.W_K(x)), self._split(self.W_V(x))
        if cache is not None:
            k = torch.cat([cache[0], k], dim=2)
            v = torch.cat([cache[1], v], dim=2)
        past = k.shape[2] - new
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        rows = torch.arange(past, past + new, device=x.device)[:, None]
        cols = torch.arange(past + new, device=x.device)[None, :]
        scores = scores.masked_fill(cols > rows, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        out = out.transpose(1, 2).reshape(batch, new, d_model)
        return self.W_O(out), (k, v)
