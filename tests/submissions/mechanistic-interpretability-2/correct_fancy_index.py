import torch


def induction_scores(patterns, first_len):
    q = torch.arange(first_len, 2 * first_len, device=patterns.device)
    k = q - first_len + 1
    return patterns[:, :, q, k].mean(dim=-1)


def previous_token_scores(patterns):
    seq = patterns.shape[-1]
    q = torch.arange(1, seq, device=patterns.device)
    return patterns[:, :, q, q - 1].mean(dim=-1)
