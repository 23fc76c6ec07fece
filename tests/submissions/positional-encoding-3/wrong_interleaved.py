"""Mistake: the GPT-J layout, pairs (0, 1), (2, 3), ... instead of (j, j + d/2)."""

import torch


def apply_rope(x, positions=None, base=10000.0):
    seq, d = x.shape[-2:]
    if positions is None:
        positions = torch.arange(seq, device=x.device)
    inv_freq = base ** (-torch.arange(0, d, 2, device=x.device, dtype=x.dtype) / d)
    angles = positions.to(x.dtype)[:, None] * inv_freq
    cos, sin = angles.cos(), angles.sin()
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.stack((even * cos - odd * sin, odd * cos + even * sin), dim=-1)
    return out.flatten(-2)
