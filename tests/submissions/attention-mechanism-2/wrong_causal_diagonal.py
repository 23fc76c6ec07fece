"""Mistake: the causal mask hides the diagonal too (triu without diagonal=1)."""

import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    hide = torch.zeros(scores.shape[-2:], dtype=torch.bool, device=q.device)
    if causal:
        hide = torch.ones_like(hide).triu()
    if key_padding_mask is not None:
        hide = hide | ~key_padding_mask[..., None, :]
    scores = scores.masked_fill(hide, torch.finfo(scores.dtype).min)
    return torch.softmax(scores, dim=-1).masked_fill(hide, 0.0) @ v
