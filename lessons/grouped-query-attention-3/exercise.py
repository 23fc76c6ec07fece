"""Grouped-query attention: fill in the TODOs, then `tracker submit grouped-query-attention-3 FILE`."""

import math

import torch
from torch import nn


class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, num_heads, num_kv_heads):
        super().__init__()
        assert d_model % num_heads == 0 and num_heads % num_kv_heads == 0
        self.num_heads, self.num_kv_heads = num_heads, num_kv_heads
        self.d_head = d_model // num_heads
        # TODO: W_Q = nn.Linear(d_model, d_model); W_K and W_V = nn.Linear(d_model,
        # num_kv_heads * d_head); W_O = nn.Linear(d_model, d_model).

    def forward(self, Q, K, V, mask=None):
        """Q: (batch, seq_q, d_model); K, V: (batch, seq_k, d_model); mask as in MHA.

        Return the output (batch, seq_q, d_model), or (output, weights) with weights
        (batch, num_heads, seq_q, seq_k). Query head i uses K/V head i // (num_heads // num_kv_heads).
        """
        # TODO 1: project; split q into num_heads heads, k and v into num_kv_heads heads.
        # TODO 2: share each K/V head with its group of query heads (repeat_interleave on dim 1).
        # TODO 3: scaled dot-product attention per head, merge heads, apply W_O.
        raise NotImplementedError("GroupedQueryAttention.forward is not written yet")
