"""Masked attention, numerically safe: fill in the TODOs, then `tracker submit attention-mechanism-2 FILE`."""

import math

import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    """softmax(q k^T / sqrt(d)) v with masks; q: (..., seq_q, d), k: (..., seq_k, d), v: (..., seq_k, d_v).

    causal=True: query i sees keys j <= i (top-left aligned, as
    scaled_dot_product_attention(is_causal=True), also when seq_q != seq_k).
    key_padding_mask: bool (..., seq_k), True for a real token, False for padding; its
    leading axes are q's (or size 1): (batch, seq_k) for 3-D inputs, (batch, heads, seq_k)
    or (batch, 1, seq_k) for 4-D ones.
    Returns the output (..., seq_q, d_v). A query whose keys are all hidden returns zeros,
    never NaN, and the gradients stay finite.
    """
    # TODO 1: scores = q @ k^T / sqrt(d).
    # TODO 2: keep = which keys each query may see: tril for causal, combined (&) with
    #         key_padding_mask[..., None, :] (a row of keys for every query).
    # TODO 3: hide the other keys so that a row with no visible key returns zeros: a row of
    #         -inf scores is 0/0 in the softmax, and a NaN patched over afterwards still
    #         reaches the gradients.
    # TODO 4: return weights @ v.
    raise NotImplementedError("masked_attention is not written yet")
