"""The fused kernel with the pattern as a boolean mask."""

import torch
import torch.nn.functional as F


def sliding_window_attention(q, k, v, window, global_tokens=None):
    seq = q.shape[-2]
    i = torch.arange(seq, device=q.device)
    allowed = (i[:, None] - i[None, :]).abs() <= window
    if global_tokens is not None:
        allowed[global_tokens, :] = True
        allowed[:, global_tokens] = True
    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
