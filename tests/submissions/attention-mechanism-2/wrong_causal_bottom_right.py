"""Mistake: a decoder-style causal mask aligned to the last key (tril(diagonal=seq_k - seq_q))."""

import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    seq_q, seq_k = scores.shape[-2:]
    keep = torch.ones(seq_q, seq_k, dtype=torch.bool, device=q.device)
    if causal:
        keep = keep.tril(diagonal=seq_k - seq_q)
    if key_padding_mask is not None:
        keep = keep & key_padding_mask[..., None, :]
    scores = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
    return torch.softmax(scores, dim=-1).masked_fill(~keep, 0.0) @ v
