"""Sums where the score is a mean."""

import torch


def induction_scores(patterns, first_len):
    q = torch.arange(first_len, 2 * first_len, device=patterns.device)
    return patterns[:, :, q, q - first_len + 1].sum(dim=-1)


def previous_token_scores(patterns):
    return patterns.diagonal(-1, -2, -1).mean(-1)
