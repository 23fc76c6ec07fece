"""Plain loops, one head and one position at a time."""

import torch


def induction_scores(patterns, first_len):
    layers, heads, seq, _ = patterns.shape
    out = torch.zeros(layers, heads, dtype=patterns.dtype, device=patterns.device)
    for layer in range(layers):
        for head in range(heads):
            total = 0.0
            for i in range(first_len, seq):
                total = total + patterns[layer, head, i, i - first_len + 1]
            out[layer, head] = total / (seq - first_len)
    return out


def previous_token_scores(patterns):
    layers, heads, seq, _ = patterns.shape
    out = torch.zeros(layers, heads, dtype=patterns.dtype, device=patterns.device)
    for layer in range(layers):
        for head in range(heads):
            out[layer, head] = sum(patterns[layer, head, i, i - 1] for i in range(1, seq)) / (seq - 1)
    return out
