"""Gather each query's window by index, and merge the window part with the global part
through their log-sum-exps (two partial softmaxes combined exactly)."""

import math

import torch


def sliding_window_attention(q, k, v, window, global_tokens=None):
    batch, heads, seq, d = q.shape
    dev = q.device
    offsets = torch.arange(-window, window + 1, device=dev)
    idx = torch.arange(seq, device=dev)[:, None] + offsets[None, :]
    inside = (idx >= 0) & (idx < seq)
    idx = idx.clamp(0, seq - 1)
    glob = torch.zeros(seq, dtype=torch.bool, device=dev)
    if global_tokens is not None and global_tokens.numel():
        glob[global_tokens.to(dev)] = True
    keep = inside & ~glob[idx]
    k_win, v_win = k[:, :, idx], v[:, :, idx]  # (batch, heads, seq, 2w+1, d)
    s_win = (q.unsqueeze(-2) * k_win).sum(-1) / math.sqrt(d)
    s_win = s_win.masked_fill(~keep, -math.inf)
    lse_win = torch.logsumexp(s_win, dim=-1, keepdim=True)
    out_win = torch.einsum("bhsw,bhswd->bhsd", torch.exp(s_win - lse_win), v_win)
    if not bool(glob.any()):
        return out_win
    g = glob.nonzero().squeeze(-1)
    s_g = q @ k[:, :, g].transpose(-2, -1) / math.sqrt(d)
    lse_g = torch.logsumexp(s_g, dim=-1, keepdim=True)
    out_g = torch.exp(s_g - lse_g) @ v[:, :, g]
    lse = torch.logaddexp(lse_win, lse_g)
    out = torch.exp(lse_win - lse) * out_win + torch.exp(lse_g - lse) * out_g
    out[:, :, g] = torch.softmax(q[:, :, g] @ k.transpose(-2, -1) / math.sqrt(d), dim=-1) @ v
    return out
