"""Reference tiled attention with an online softmax (the FlashAttention forward pass).

Pure PyTorch and written for clarity: an outer loop over query blocks, an inner
loop over key blocks, a running row max ``m``, a running normaliser ``l`` and an
unnormalised accumulator ``acc`` rescaled by exp(m_old - m_new) whenever the max
grows. Peak extra memory is one (block, block) score tile per step.
"""

from __future__ import annotations

import math

import torch


def flash_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False, block_size: int = 64
) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v for (batch, heads, seq, d_head), one tile at a time."""
    seq_q, seq_k, d = q.shape[-2], k.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(d)
    out = torch.empty(*q.shape[:-1], v.shape[-1], dtype=q.dtype, device=q.device)
    for qs in range(0, seq_q, block_size):
        qe = min(qs + block_size, seq_q)
        q_blk = q[..., qs:qe, :] * scale
        m = torch.full((*q.shape[:-2], qe - qs, 1), -math.inf, dtype=q.dtype, device=q.device)
        l = torch.zeros_like(m)  # noqa: E741 - the paper's name
        acc = torch.zeros(*q.shape[:-2], qe - qs, v.shape[-1], dtype=q.dtype, device=q.device)
        k_end = min(seq_k, qe) if causal else seq_k
        for ks in range(0, k_end, block_size):
            ke = min(ks + block_size, k_end)
            s = q_blk @ k[..., ks:ke, :].transpose(-2, -1)
            if causal and ke - 1 > qs:
                rows = torch.arange(qs, qe, device=q.device)[:, None]
                cols = torch.arange(ks, ke, device=q.device)[None, :]
                s = s.masked_fill(cols > rows, -math.inf)
            m_new = torch.maximum(m, s.amax(dim=-1, keepdim=True))
            p = torch.exp(s - m_new)
            correction = torch.exp(m - m_new)
            l = l * correction + p.sum(dim=-1, keepdim=True)  # noqa: E741
            acc = acc * correction + p @ v[..., ks:ke, :]
            m = m_new
        out[..., qs:qe, :] = acc / l
    return out
