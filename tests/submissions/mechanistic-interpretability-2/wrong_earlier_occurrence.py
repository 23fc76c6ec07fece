"""Off by one: the induction stripe read at the earlier occurrence itself."""

import torch


def induction_scores(patterns, first_len):
    q = torch.arange(first_len, 2 * first_len, device=patterns.device)
    return patterns[:, :, q, q - first_len].mean(dim=-1)


def previous_token_scores(patterns):
    seq = patterns.shape[-1]
    q = torch.arange(1, seq, device=patterns.device)
    return patterns[:, :, q, q - 1].mean(dim=-1)
