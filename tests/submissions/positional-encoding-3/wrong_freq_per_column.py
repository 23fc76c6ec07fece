"""Mistake: one frequency per column (arange(d) / d), so a pair gets two angles."""

import torch


def apply_rope(x, positions=None, base=10000.0):
    seq, d = x.shape[-2:]
    if positions is None:
        positions = torch.arange(seq, device=x.device)
    inv_freq = base ** (-torch.arange(d, device=x.device, dtype=x.dtype) / d)
    angles = positions.to(x.dtype)[:, None] * inv_freq
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return x * angles.cos() + torch.cat((-x2, x1), dim=-1) * angles.sin()
