"""Mistake: the table is always float64, so a float32 x comes back as float64."""

import torch


def apply_rope(x, positions=None, base=10000.0):
    seq, d = x.shape[-2:]
    if positions is None:
        positions = torch.arange(seq, device=x.device)
    inv_freq = base ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float64) / d)
    angles = positions.double()[:, None] * inv_freq
    angles = torch.cat((angles, angles), dim=-1)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return x * angles.cos() + torch.cat((-x2, x1), dim=-1) * angles.sin()
