"""Dense attention with the pattern as a mask: right numbers, a seq x seq matrix."""

import math

import torch


def sliding_window_attention(q, k, v, window, global_tokens=None):
    seq = q.shape[-2]
    i = torch.arange(seq, device=q.device)
    allowed = (i[:, None] - i[None, :]).abs() <= window
    if global_tokens is not None:
        allowed[global_tokens, :] = True
        allowed[:, global_tokens] = True
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
