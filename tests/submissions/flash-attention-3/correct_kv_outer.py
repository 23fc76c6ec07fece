"""Correct: outer loop over key blocks, running statistics for all queries (FlashAttention-1)."""

import math

import torch


def flash_attention(q, k, v, causal=False, block_size=64):
    *lead, n, d = q.shape
    m = torch.full((*lead, n, 1), float("-inf"), dtype=q.dtype, device=q.device)
    l = torch.zeros((*lead, n, 1), dtype=q.dtype, device=q.device)
    acc = torch.zeros_like(q)
    rows = torch.arange(n, device=q.device)[:, None]
    for start in range(0, k.shape[-2], block_size):
        end = min(start + block_size, k.shape[-2])
        s = (q @ k[..., start:end, :].transpose(-1, -2)) / math.sqrt(d)
        if causal:
            s = s.masked_fill(torch.arange(start, end, device=q.device)[None, :] > rows,
                              float("-inf"))
        m_new = torch.maximum(m, s.max(dim=-1, keepdim=True).values)
        # rows that have seen no key yet keep m = -inf; avoid exp(-inf - -inf) = nan
        safe = torch.where(torch.isinf(m_new), torch.zeros_like(m_new), m_new)
        p = torch.exp(s - safe)
        alpha = torch.exp(m - safe)
        l = l * alpha + p.sum(dim=-1, keepdim=True)
        acc = acc * alpha + p @ v[..., start:end, :]
        m = m_new
    return acc / l
