"""Wrong: a scale that is right only when d_v == d_k, so only the d_v != d_k case differs.

No known mistake matches; numbers_float64 must still describe the case that failed
(d_v != d_k), not the 3-D case, which agrees.
"""

import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    d = q.shape[-1] if v.shape[-1] == q.shape[-1] else q.shape[-1] + 1
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights
