"""Mistake: -1e9 instead of -inf: no NaN, but a row with no visible key averages all values."""

import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        future = torch.ones(scores.shape[-2:], dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, -1e9)
    if key_padding_mask is not None:
        scores = scores.masked_fill(~key_padding_mask[..., None, :], -1e9)
    return torch.softmax(scores, dim=-1) @ v
