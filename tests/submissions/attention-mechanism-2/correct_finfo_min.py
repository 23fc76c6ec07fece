import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    seq_q, seq_k = scores.shape[-2:]
    keep = torch.ones(seq_q, seq_k, dtype=torch.bool, device=q.device)
    if causal:
        keep = torch.tril(keep)
    if key_padding_mask is not None:
        keep = keep & key_padding_mask.unsqueeze(-2)
    scores = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
    weights = scores.softmax(dim=-1) * keep
    return weights @ v
