"""Reference sinusoidal positional encoding (Vaswani et al., 2017), in float64."""

from __future__ import annotations

import math

import torch


def sinusoidal_positional_encoding(
    seq_len: int, d_model: int, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...); odd d_model allowed."""
    position = torch.arange(seq_len, dtype=torch.float64).unsqueeze(1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    div_term = torch.exp(-math.log(10000.0) * two_i / d_model)
    pe = torch.zeros(seq_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term[: d_model // 2])
    return pe.to(dtype)
