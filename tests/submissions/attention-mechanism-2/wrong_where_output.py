"""Mistake: -inf fill, then the NaN output rows replaced with torch.where."""

import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    keep = torch.ones(scores.shape[-2:], dtype=torch.bool, device=q.device)
    if causal:
        keep = keep.tril()
    if key_padding_mask is not None:
        keep = keep & key_padding_mask[..., None, :]
    out = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1) @ v
    sees_something = keep.any(dim=-1, keepdim=True)
    return torch.where(sees_something, out, torch.zeros_like(out))
