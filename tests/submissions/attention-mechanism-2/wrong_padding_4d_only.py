"""Mistake: the padding mask is broadcast as mask[:, None, None, :], which fits one shape only."""

import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    keep = torch.ones(scores.shape[-2:], dtype=torch.bool, device=q.device)
    if causal:
        keep = keep.tril()
    if key_padding_mask is not None:
        keep = keep & key_padding_mask[:, None, None, :]
    scores = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
    return torch.softmax(scores, dim=-1).masked_fill(~keep, 0.0) @ v
