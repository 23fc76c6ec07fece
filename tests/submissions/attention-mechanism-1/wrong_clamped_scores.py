"""Wrong: clamps the scores at 50 before exp; finite for large inputs, but the weights are wrong."""

import math


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    e = scores.clamp(max=50.0).exp()
    if mask is not None:
        e = e * (mask != 0)
    weights = e / e.sum(-1, keepdim=True)
    return weights @ v, weights
