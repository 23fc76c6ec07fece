"""Mistake: a cos/sin table for the interleaved layout used with rotate_half."""

import torch


def apply_rope(x, positions=None, base=10000.0):
    seq, d = x.shape[-2:]
    if positions is None:
        positions = torch.arange(seq, device=x.device)
    inv_freq = base ** (-torch.arange(0, d, 2, device=x.device, dtype=x.dtype) / d)
    angles = (positions.to(x.dtype)[:, None] * inv_freq).repeat_interleave(2, dim=-1)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return x * angles.cos() + torch.cat((-x2, x1), dim=-1) * angles.sin()
