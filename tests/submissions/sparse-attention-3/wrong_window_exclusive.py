"""The window leaves out the keys at distance exactly window."""

import math

import torch


def sliding_window_attention(q, k, v, window, global_tokens=None):
    seq = q.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1])
    g = global_tokens if global_tokens is not None else torch.empty(0, dtype=torch.long)
    g = g.to(q.device)
    glob = torch.zeros(seq, dtype=torch.bool, device=q.device)
    glob[g] = True
    out = torch.zeros_like(q)
    block = 32
    for start in range(0, seq, block):
        stop = min(seq, start + block)
        lo, hi = max(0, start - window), min(seq, stop + window)
        qi = torch.arange(start, stop, device=q.device)
        kj = torch.arange(lo, hi, device=q.device)
        keep = ((qi[:, None] - kj[None, :]).abs() < window) & ~glob[lo:hi]
        s_local = q[..., start:stop, :] @ k[..., lo:hi, :].transpose(-1, -2) * scale
        s_local = s_local.masked_fill(~keep, float("-inf"))
        s_glob = q[..., start:stop, :] @ k[..., g, :].transpose(-1, -2) * scale
        p = torch.softmax(torch.cat((s_local, s_glob), dim=-1), dim=-1)
        n = hi - lo
        out[..., start:stop, :] = p[..., :n] @ v[..., lo:hi, :] + p[..., n:] @ v[..., g, :]
    if g.numel():
        s = q[..., g, :] @ k.transpose(-1, -2) * scale
        out[..., g, :] = torch.softmax(s, dim=-1) @ v
    return out
