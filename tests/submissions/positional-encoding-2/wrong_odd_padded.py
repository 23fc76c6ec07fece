"""Wrong: odd d_model is padded to d_model + 1, built at that width and cut.

The frequencies then use d_model + 1 in the exponent, so every column of an odd
table is off, not just the last one; even widths are right.
"""

import math

import torch


def sinusoidal_positional_encoding(seq_len, d_model):
    width = d_model + d_model % 2
    position = torch.arange(seq_len, dtype=torch.float32).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, width, 2).float() * (-math.log(10000.0) / width))
    pe = torch.zeros(seq_len, width)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe[:, :d_model]
