"""Correct: einsum over the last axes, torch.where with a bool mask, -1e9 fill."""

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    d_k = q.shape[-1]
    scores = torch.einsum("...qd,...kd->...qk", q, k) * d_k**-0.5
    if mask is not None:
        scores = torch.where(mask.bool(), scores, torch.tensor(-1e9, dtype=scores.dtype,
                                                               device=scores.device))
    weights = scores.softmax(-1)
    return torch.einsum("...qk,...kd->...qd", weights, v), weights
