"""Sliding-window attention with global tokens: fill in the TODOs, then
`tracker submit sparse-attention-3 FILE`."""

import math

import torch


def sliding_window_attention(q, k, v, window, global_tokens=None):
    """Longformer-style attention for q, k, v of shape (batch, heads, seq, d_head).

    Query i attends to key j when |i - j| <= window (window is one-sided: keys
    i - window .. i + window that exist), or when i or j is a global token.
    global_tokens is None or a 1-D int64 tensor of distinct positions, in any order.
    Return softmax(q k^T / sqrt(d_head) + mask) v, of the shape of q, without ever
    building a (seq, seq) matrix: the checks measure memory and count matrix FLOPs at
    seq 8192.
    """
    # TODO 1: out = an empty tensor like q; mark the global positions in a (seq,) bool tensor.
    # TODO 2: for each block of queries qs..qe, take the keys max(0, qs - window) ..
    #         min(seq, qe + window); score them, hide keys with |i - j| > window and keys
    #         that are global (they come next), add the scores against the global keys,
    #         softmax over both, and combine the matching values.
    # TODO 3: each global query attends to every key: a full row of its own.
    raise NotImplementedError("sliding_window_attention is not written yet")
