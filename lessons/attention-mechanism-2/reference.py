"""Reference masked attention: causal and key-padding masks, safe for rows with no visible key.

Hidden scores are filled with the dtype's most negative finite number, not -inf, so a
row whose keys are all hidden has a uniform (finite) softmax instead of 0/0; the
weights of hidden positions are then set to 0, which makes such a row return zeros and
keeps every gradient finite.
"""

from __future__ import annotations

import math

import torch


def visible(
    q: torch.Tensor, k: torch.Tensor, causal: bool, key_padding_mask: torch.Tensor | None
) -> torch.Tensor | None:
    """Which keys each query may see, broadcastable to the scores; None: all of them."""
    keep = None
    if causal:  # top-left aligned, as scaled_dot_product_attention(is_causal=True)
        keep = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril()
    if key_padding_mask is not None:
        pad = key_padding_mask.to(torch.bool)[..., None, :]
        keep = pad if keep is None else keep & pad
    return keep


def masked_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    key_padding_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over the visible keys; a row that sees none returns 0."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    keep = visible(q, k, causal, key_padding_mask)
    if keep is None:
        return torch.softmax(scores, dim=-1) @ v
    scores = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=-1).masked_fill(~keep, 0.0)
    return weights @ v
