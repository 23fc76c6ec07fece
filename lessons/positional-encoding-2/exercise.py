"""Sinusoidal positional encoding: fill in the TODOs, then `tracker submit positional-encoding-2 FILE`."""

import math

import torch


def sinusoidal_positional_encoding(seq_len, d_model):
    """Return a (seq_len, d_model) tensor with
    PE[pos, 2i] = sin(pos / 10000^(2i / d_model)) and PE[pos, 2i+1] = cos(pos / 10000^(2i / d_model)).
    Odd d_model must work (the last column is a sin column).
    """
    # TODO 1: positions 0..seq_len-1 as a column, the frequencies 1 / 10000^(2i/d_model) as a row.
    # TODO 2: fill the even columns with sin and the odd columns with cos of their product.
    raise NotImplementedError("sinusoidal_positional_encoding is not written yet")
