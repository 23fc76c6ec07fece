import torch


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, positions=None, base=10000.0):
    seq, dim = x.shape[-2], x.shape[-1]
    if positions is None:
        positions = torch.arange(seq, device=x.device)
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, device=x.device, dtype=x.dtype) / dim))
    freqs = torch.outer(positions.to(x.dtype), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return x * emb.cos() + rotate_half(x) * emb.sin()
