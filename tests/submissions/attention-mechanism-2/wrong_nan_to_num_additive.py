"""Mistake: an additive -inf mask, then the NaN weights patched with nan_to_num."""

import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    bias = torch.zeros_like(scores)
    if causal:
        future = torch.ones(scores.shape[-2:], dtype=torch.bool, device=q.device).triu(1)
        bias = bias.masked_fill(future, float("-inf"))
    if key_padding_mask is not None:
        bias = bias.masked_fill(~key_padding_mask[..., None, :], float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores + bias, dim=-1))
    return weights @ v
