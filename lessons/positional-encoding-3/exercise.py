"""Rotary position embedding (RoPE): fill in the TODOs, then `tracker submit positional-encoding-3 FILE`."""

import torch


def apply_rope(x, positions=None, base=10000.0):
    """Rotate x (..., seq, d), d even, by its positions, in the rotate-half layout (Llama).

    positions: integer tensor (seq,), the position of each row of x; None means 0..seq-1.
    Feature j and feature j + d/2 form a pair rotated by the angle position * freq_j, with
    freq_j = base ** (-2j / d) for j in 0..d/2-1:
        x1, x2 = x[..., :d/2], x[..., d/2:]
        out = x * cos + cat(-x2, x1) * sin      (cos, sin of the angles, repeated twice)
    Return a tensor of x's shape and dtype.
    """
    # TODO 1: positions default to torch.arange(seq); the frequencies base ** (-2j / d),
    #         computed in x's dtype (float64 in, float64-accurate out).
    # TODO 2: angles = positions[:, None] * freqs, (seq, d/2); cos and sin of
    #         cat((angles, angles), dim=-1), so feature j and j + d/2 share angle j.
    # TODO 3: return x * cos + rotate_half(x) * sin, with rotate_half(x) = cat(-x2, x1).
    raise NotImplementedError("apply_rope is not written yet")
