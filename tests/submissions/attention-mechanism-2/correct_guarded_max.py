"""A hand-written softmax: -inf fill, a row max guarded for rows with nothing visible."""

import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    d = q.shape[-1]
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d))
    hidden = torch.zeros(scores.shape[-2:], dtype=torch.bool, device=scores.device)
    if causal:
        i = torch.arange(scores.shape[-2], device=scores.device)[:, None]
        j = torch.arange(scores.shape[-1], device=scores.device)[None, :]
        hidden = j > i
    if key_padding_mask is not None:
        hidden = hidden | ~key_padding_mask[..., None, :]
    scores = scores.masked_fill(hidden, float("-inf"))
    row_max = scores.amax(dim=-1, keepdim=True).detach()
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    e = torch.exp(scores - row_max)  # exactly 0 where hidden
    total = e.sum(dim=-1, keepdim=True)
    weights = e / total.clamp_min(torch.finfo(e.dtype).tiny)
    return weights @ v
