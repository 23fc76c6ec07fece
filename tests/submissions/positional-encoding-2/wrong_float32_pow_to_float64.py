"""Wrong: a float32 pow table converted with .to(torch.float64); odd widths carry float32 rounding too."""

import torch


def sinusoidal_positional_encoding(seq_len, d_model):
    pos = torch.arange(seq_len, dtype=torch.float32)[:, None]
    j = torch.arange(d_model)
    angle = pos / torch.pow(10000.0, (2 * (j // 2)).float() / d_model)
    return torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle)).to(torch.float64)
