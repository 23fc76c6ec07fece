"""Multi-head attention: fill in the TODOs, then run `tracker submit multi-head-attention-2 FILE`."""

import math

import torch
from torch import nn


class SimpleMultiHeadAttention(nn.Module):
    def __init__(self, d_model: int = 512, num_heads: int = 8) -> None:
        super().__init__()
        assert d_model % num_heads == 0, "d_model must be divisible by num_heads"
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        # TODO: four projections, each nn.Linear(d_model, d_model):
        # self.W_Q, self.W_K, self.W_V (inputs -> queries, keys, values) and self.W_O (output).

    def forward(self, Q, K, V, mask=None):
        """Q: (batch, seq_q, d_model); K, V: (batch, seq_k, d_model).

        mask (optional) broadcasts to (batch, num_heads, seq_q, seq_k); 1/True keeps a
        position, 0/False hides it. Return the output (batch, seq_q, d_model), or
        (output, attention_weights) with weights (batch, num_heads, seq_q, seq_k).
        """
        # TODO 1: project Q, K, V and split into heads: (batch, num_heads, seq, d_k).
        # TODO 2: scores = q @ k^T / sqrt(d_k); hide masked positions with -inf.
        # TODO 3: softmax over the keys, weighted sum of the values.
        # TODO 4: merge the heads back to (batch, seq_q, d_model) and apply W_O.
        raise NotImplementedError("SimpleMultiHeadAttention.forward is not written yet")
