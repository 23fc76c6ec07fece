"""Induction-head scores: fill in the TODOs, then
`tracker submit mechanistic-interpretability-2 FILE`."""

import torch


def induction_scores(patterns, first_len):
    """patterns: (layers, heads, seq, seq), indexed [query, key], of a model run on a random
    sequence of first_len tokens repeated twice (seq = 2 * first_len).

    Return (layers, heads): for each head, the mean attention from each query i of the
    second half (i = first_len .. seq - 1) to key i - first_len + 1, the token right after
    the earlier occurrence of token i.
    """
    # TODO: rows = first_len .. 2 * first_len - 1; cols = rows - first_len + 1;
    #       patterns[..., rows, cols].mean(-1)
    raise NotImplementedError("induction_scores is not written yet")


def previous_token_scores(patterns):
    """Return (layers, heads): the mean attention from each position i >= 1 to i - 1."""
    # TODO: the diagonal just below the main one, averaged.
    raise NotImplementedError("previous_token_scores is not written yet")
