"""Wrong: exponents from linspace(0, 1, n) instead of 2i/d_model; wrong for even widths too."""

import torch


def sinusoidal_positional_encoding(seq_len, d_model):
    n_sin = (d_model + 1) // 2
    freqs = 1.0 / torch.pow(10000.0, torch.linspace(0, 1, n_sin, dtype=torch.float64))
    angle = torch.arange(seq_len, dtype=torch.float64)[:, None] * freqs
    pe = torch.zeros(seq_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe
