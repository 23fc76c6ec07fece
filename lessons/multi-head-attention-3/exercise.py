"""Multi-head attention with a KV cache: fill in the TODOs, then `tracker submit multi-head-attention-3 FILE`."""

import math

import torch
from torch import nn


class CachedMultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        assert d_model % num_heads == 0, "d_model must be divisible by num_heads"
        self.num_heads = num_heads
        self.d_head = d_model // num_heads
        # TODO: four projections, each nn.Linear(d_model, d_model): self.W_Q, self.W_K,
        # self.W_V and self.W_O.

    def forward(self, x, cache=None):
        """Causal self-attention over the cached positions and the new tokens x.

        x: (batch, seq_new, d_model), the new tokens (one when decoding, the prompt, or a
        chunk of several). cache: None, or the (keys, values) a previous call returned,
        each (batch, num_heads, seq_past, d_head).
        Returns (output (batch, seq_new, d_model), (keys, values)) where keys and values
        now hold seq_past + seq_new positions. The new token at position seq_past + i
        attends to positions 0 .. seq_past + i. Never recompute the cached keys/values.
        """
        # TODO 1: project x with W_Q, W_K, W_V and split into heads (batch, num_heads, seq_new, d_head).
        # TODO 2: append the new keys and values to the cached ones (along the sequence axis).
        # TODO 3: scores of the new queries against all keys / sqrt(d_head); hide key j from
        #         new query i when j > seq_past + i.
        # TODO 4: softmax, weighted sum of the values, merge the heads, W_O; return it with the cache.
        raise NotImplementedError("CachedMultiHeadAttention.forward is not written yet")
