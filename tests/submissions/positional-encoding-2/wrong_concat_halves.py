"""Wrong: [sin | cos] halves instead of interleaved columns."""

import math

import torch


def sinusoidal_positional_encoding(seq_len, d_model):
    position = torch.arange(seq_len, dtype=torch.float32).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
    angles = position * div_term
    return torch.cat([torch.sin(angles), torch.cos(angles[:, : d_model // 2])], dim=1)
