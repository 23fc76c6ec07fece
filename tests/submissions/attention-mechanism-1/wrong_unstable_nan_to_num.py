"""Wrong: exp without subtracting the row max, with the overflow hidden by nan_to_num."""

import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    e = scores.exp()
    if mask is not None:
        e = e * (mask != 0)
    weights = torch.nan_to_num(e / e.sum(-1, keepdim=True))
    return torch.nan_to_num(weights @ v), weights
