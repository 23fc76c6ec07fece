"""Zero-padded windows: the padding at both ends is never masked."""

import math

import torch
import torch.nn.functional as F


def sliding_window_attention(q, k, v, window, global_tokens=None):
    b, h, n, d = q.shape
    w = window
    width = 2 * w + 1
    kp = F.pad(k, (0, 0, w, w))
    vp = F.pad(v, (0, 0, w, w))
    k_win = kp.unfold(2, width, 1).transpose(-1, -2)  # (b, h, n, width, d)
    v_win = vp.unfold(2, width, 1).transpose(-1, -2)
    scores = torch.einsum("bhnd,bhnwd->bhnw", q, k_win) / math.sqrt(d)
    pos = torch.arange(n, device=q.device)[:, None] + torch.arange(-w, w + 1, device=q.device)
    valid = torch.ones_like(pos, dtype=torch.bool)
    if global_tokens is None:
        global_tokens = torch.zeros(0, dtype=torch.long, device=q.device)
    global_tokens = global_tokens.to(q.device)
    is_g = torch.zeros(n, dtype=torch.bool, device=q.device)
    is_g[global_tokens] = True
    valid &= ~is_g[pos.clamp(0, n - 1)]
    scores = scores.masked_fill(~valid, float("-inf"))
    g_scores = q @ k[:, :, global_tokens].transpose(-1, -2) / math.sqrt(d)
    weights = torch.cat([scores, g_scores], dim=-1).softmax(dim=-1)
    out = torch.einsum("bhnw,bhnwd->bhnd", weights[..., :width], v_win)
    out = out + weights[..., width:] @ v[:, :, global_tokens]
    if global_tokens.numel() > 0:
        full = q[:, :, global_tokens] @ k.transpose(-1, -2) / math.sqrt(d)
        out[:, :, global_tokens] = full.softmax(dim=-1) @ v
    return out
