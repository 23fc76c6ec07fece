"""Wrong for this lesson: right numbers, but it builds the whole seq x seq score matrix."""

import math

import torch


def flash_attention(q, k, v, causal=False, block_size=64):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        n = q.shape[-2]
        scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
