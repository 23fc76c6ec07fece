"""Wrong: scores against v, output from k (crashes when d_v != d_k)."""

import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ v.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ k, weights
