"""Rotate-half RoPE as a complex multiplication: (x1 + i x2) * e^(i angle)."""

import torch


def apply_rope(x, positions=None, base=10000.0):
    n, d = x.shape[-2:]
    half = d // 2
    pos = torch.arange(n, device=x.device) if positions is None else positions
    j = torch.arange(half, device=x.device, dtype=x.dtype)
    angle = pos.to(x.dtype).unsqueeze(-1) * torch.pow(base, -2 * j / d)
    z = torch.complex(x[..., :half], x[..., half:]) * torch.polar(torch.ones_like(angle), angle)
    return torch.cat((z.real, z.imag), dim=-1)
