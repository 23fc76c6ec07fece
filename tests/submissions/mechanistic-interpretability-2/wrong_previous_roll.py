"""Previous token by rolling the keys: position 0 wraps around to the last key."""

import torch


def induction_scores(patterns, first_len):
    q = torch.arange(first_len, 2 * first_len, device=patterns.device)
    return patterns[:, :, q, q - first_len + 1].mean(dim=-1)


def previous_token_scores(patterns):
    rolled = torch.roll(patterns, shifts=1, dims=-1)
    return rolled.diagonal(dim1=-2, dim2=-1).mean(-1)
