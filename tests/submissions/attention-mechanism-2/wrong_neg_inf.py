"""Mistake: the textbook -inf fill; a row with no visible key is 0/0 in the softmax."""

import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        future = torch.ones(scores.shape[-2:], dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    if key_padding_mask is not None:
        scores = scores.masked_fill(~key_padding_mask[..., None, :], float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
