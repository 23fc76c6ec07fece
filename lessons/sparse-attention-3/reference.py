"""Reference sliding-window attention with global tokens (Longformer's pattern), banded.

Query i attends to key j when |i - j| <= window, or when i or j is a global token. The
work goes block by block: a block of queries scores only the keys its window can reach
(block start - window .. block end + window) plus the global keys, with the window's
copies of global keys masked so each key counts once; each global query then gets a
full row of its own. Peak extra memory is one (block, block + 2 window + globals) tile,
and the work grows with seq * window, not seq squared.
"""

from __future__ import annotations

import math

import torch


def sliding_window_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    window: int,
    global_tokens: torch.Tensor | None = None,
) -> torch.Tensor:
    """softmax(q k^T / sqrt(d) + M) v for (batch, heads, seq, d_head), M the band + globals."""
    seq, d = q.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(d)
    device = q.device
    if global_tokens is None:
        global_tokens = torch.zeros(0, dtype=torch.int64, device=device)
    is_global = torch.zeros(seq, dtype=torch.bool, device=device)
    is_global[global_tokens] = True
    k_global, v_global = k[..., global_tokens, :], v[..., global_tokens, :]
    block = max(64, window)
    out = torch.empty_like(q)
    for qs in range(0, seq, block):
        qe = min(qs + block, seq)
        ks, ke = max(0, qs - window), min(seq, qe + window)
        rows = torch.arange(qs, qe, device=device)[:, None]
        cols = torch.arange(ks, ke, device=device)[None, :]
        # Global keys come in their own columns: hide their copies inside the window.
        hidden = ((rows - cols).abs() > window) | is_global[ks:ke][None, :]
        local = (q[..., qs:qe, :] @ k[..., ks:ke, :].transpose(-2, -1)) * scale
        far = (q[..., qs:qe, :] @ k_global.transpose(-2, -1)) * scale
        weights = torch.softmax(torch.cat([local.masked_fill(hidden, -math.inf), far], -1), -1)
        width = ke - ks
        out[..., qs:qe, :] = weights[..., :width] @ v[..., ks:ke, :] + (
            weights[..., width:] @ v_global
        )
    if len(global_tokens):  # a global query sees every key
        scores = (q[..., global_tokens, :] @ k.transpose(-2, -1)) * scale
        out[..., global_tokens, :] = torch.softmax(scores, -1) @ v
    return out
