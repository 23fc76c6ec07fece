"""Wrong: future key blocks are skipped, but the diagonal block is not masked inside."""

import math

import torch


def flash_attention(q, k, v, causal=False, block_size=64):
    n, d = q.shape[-2], q.shape[-1]
    out = torch.zeros_like(q)
    for qs in range(0, n, block_size):
        qe = min(qs + block_size, n)
        m = torch.full((*q.shape[:-2], qe - qs, 1), float("-inf"), dtype=q.dtype)
        l = torch.zeros_like(m)
        acc = torch.zeros(*q.shape[:-2], qe - qs, d, dtype=q.dtype)
        for ks in range(0, n, block_size):
            ke = min(ks + block_size, n)
            if causal and ks > qe - 1:
                break
            s = q[..., qs:qe, :] @ k[..., ks:ke, :].transpose(-2, -1) / math.sqrt(d)
            m_new = torch.maximum(m, s.amax(-1, keepdim=True))
            c = torch.exp(m - m_new)
            m = m_new
            p = torch.exp(s - m)
            l = l * c + p.sum(-1, keepdim=True)
            acc = acc * c + p @ v[..., ks:ke, :]
        out[..., qs:qe, :] = acc / l
    return out
