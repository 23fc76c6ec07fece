import math

import torch


def apply_rope(x, positions=None, base=10000.0):
    seq_len, d = x.shape[-2], x.shape[-1]
    if positions is None:
        positions = torch.arange(seq_len)
    positions = positions.to(device=x.device, dtype=x.dtype)
    i = torch.arange(d // 2, device=x.device, dtype=x.dtype)
    freq = torch.exp(-math.log(base) * 2 * i / d)
    theta = positions[:, None] * freq[None, :]
    cos, sin = torch.cos(theta), torch.sin(theta)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)
