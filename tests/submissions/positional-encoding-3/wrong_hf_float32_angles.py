"""Mistake: the Hugging Face recipe, angles in float32 whatever x's dtype."""

import torch


def apply_rope(x, positions=None, base=10000.0):
    seq, dim = x.shape[-2:]
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float().to(x.device) / dim))
    if positions is None:
        positions = torch.arange(seq, device=x.device)
    freqs = positions.float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
    x1, x2 = x[..., : dim // 2], x[..., dim // 2 :]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin
