"""Reference rotary position embedding (RoPE), rotate-half layout as in the Llama family.

Feature j and feature j + d/2 form a pair, rotated together by the angle
position * base ** (-2j / d). The angles are computed in float64 and the table cast to
x's dtype, so a float64 input gets float64-accurate angles even at large positions.
"""

from __future__ import annotations

import torch


def apply_rope(
    x: torch.Tensor, positions: torch.Tensor | None = None, base: float = 10000.0
) -> torch.Tensor:
    """x (..., seq, d) with even d, rotated pair by pair: x * cos + rotate_half(x) * sin."""
    seq, d = x.shape[-2], x.shape[-1]
    if d % 2:
        raise ValueError(f"the feature size must be even, not {d}")
    if positions is None:
        positions = torch.arange(seq, device=x.device)
    half = d // 2
    i = torch.arange(half, dtype=torch.float64, device=x.device)
    angles = positions.to(torch.float64)[:, None] * base ** (-2.0 * i / d)  # (seq, d/2)
    angles = torch.cat([angles, angles], dim=-1)  # feature j and j + d/2 share angle j
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin
