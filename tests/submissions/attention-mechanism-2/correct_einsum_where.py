import torch


def masked_attention(q, k, v, causal=False, key_padding_mask=None):
    scale = q.shape[-1] ** -0.5
    scores = torch.einsum("...qd,...kd->...qk", q, k) * scale
    keep = torch.ones_like(scores, dtype=torch.bool)
    if causal:
        n_q, n_k = scores.shape[-2], scores.shape[-1]
        keep = keep & torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril()
    if key_padding_mask is not None:
        keep = keep & key_padding_mask[..., None, :].bool()
    very_negative = torch.finfo(scores.dtype).min
    weights = torch.softmax(torch.where(keep, scores, very_negative), dim=-1)
    weights = torch.where(keep, weights, torch.zeros_like(weights))
    return torch.einsum("...qk,...kd->...qd", weights, v)
