"""Correct: float64 with pow, each column computed from its pair index."""

import torch


def sinusoidal_positional_encoding(seq_len, d_model):
    pos = torch.arange(seq_len, dtype=torch.float64)[:, None]
    j = torch.arange(d_model)
    angle = pos / torch.pow(10000.0, (2 * (j // 2)).double() / d_model)
    return torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle))
