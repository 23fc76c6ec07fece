"""Scaled dot-product attention: fill in the TODOs, then `tracker submit attention-mechanism-1 FILE`."""

import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    """q: (..., seq_q, d_k), k: (..., seq_k, d_k), v: (..., seq_k, d_v).

    mask (optional) broadcasts to (..., seq_q, seq_k): 1/True keeps a position, 0/False hides it.
    Returns (output (..., seq_q, d_v), weights (..., seq_q, seq_k)).
    """
    # TODO 1: scores = q @ k^T, divided by sqrt(d_k).
    # TODO 2: if a mask is given, set the scores of hidden positions to -inf.
    # TODO 3: weights = softmax over the keys; output = weights @ v.
    raise NotImplementedError("scaled_dot_product_attention is not written yet")
