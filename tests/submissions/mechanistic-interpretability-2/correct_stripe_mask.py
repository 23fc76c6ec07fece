"""A 0/1 mask over (query, key) marks the stripe; scores are masked sums over its size."""

import torch


def _stripe_mean(patterns, mask):
    mask = mask.to(patterns.dtype)
    return torch.einsum("lhqk,qk->lh", patterns, mask) / mask.sum()


def induction_scores(patterns, first_len):
    seq = patterns.shape[-1]
    q = torch.arange(seq, device=patterns.device)[:, None]
    k = torch.arange(seq, device=patterns.device)[None, :]
    return _stripe_mean(patterns, (q >= first_len) & (k == q - first_len + 1))


def previous_token_scores(patterns):
    seq = patterns.shape[-1]
    q = torch.arange(seq, device=patterns.device)[:, None]
    k = torch.arange(seq, device=patterns.device)[None, :]
    return _stripe_mean(patterns, k == q - 1)
