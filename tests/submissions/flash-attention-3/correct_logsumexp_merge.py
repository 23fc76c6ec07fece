"""Correct: query blocks, each key block folded in through a running log-sum-exp."""

import math

import torch


def flash_attention(q, k, v, causal=False, block_size=64):
    n, d = q.shape[-2], q.shape[-1]
    out = torch.empty_like(q)
    for qs in range(0, n, block_size):
        qe = min(qs + block_size, n)
        qb = q[..., qs:qe, :] / math.sqrt(d)
        lse = torch.full((*q.shape[:-2], qe - qs, 1), float("-inf"), dtype=q.dtype, device=q.device)
        acc = torch.zeros((*q.shape[:-2], qe - qs, v.shape[-1]), dtype=q.dtype, device=q.device)
        for ks in range(0, qe if causal else k.shape[-2], block_size):
            ke = min(ks + block_size, qe if causal else k.shape[-2])
            s = torch.einsum("...id,...jd->...ij", qb, k[..., ks:ke, :])
            if causal:
                future = torch.arange(ks, ke, device=q.device)[None, :] > torch.arange(qs, qe, device=q.device)[:, None]
                s = s.masked_fill(future, float("-inf"))
            block_lse = torch.logsumexp(s, dim=-1, keepdim=True)
            new_lse = torch.logaddexp(lse, block_lse)
            # weights of the old accumulator and of this block, each already normalised
            acc = acc * torch.exp(lse - new_lse) + torch.exp(s - new_lse) @ v[..., ks:ke, :]
            lse = new_lse
        out[..., qs:qe, :] = acc
    return out
