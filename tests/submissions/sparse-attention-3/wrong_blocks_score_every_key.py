"""Query blocks keep memory small, but each block scores every key and masks afterwards."""

import math

import torch


def sliding_window_attention(q, k, v, window, global_tokens=None):
    seq = q.shape[-2]
    j = torch.arange(seq, device=q.device)
    is_global = torch.zeros(seq, dtype=torch.bool, device=q.device)
    if global_tokens is not None:
        is_global[global_tokens] = True
    out = torch.empty_like(q)
    for start in range(0, seq, 64):
        rows = torch.arange(start, min(seq, start + 64), device=q.device)
        allowed = ((rows[:, None] - j[None, :]).abs() <= window) | is_global[None, :]
        allowed |= is_global[rows][:, None]
        scores = q[..., rows, :] @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
        out[..., rows, :] = weights @ v
    return out
