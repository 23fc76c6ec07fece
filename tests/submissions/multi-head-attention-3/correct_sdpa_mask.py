"""PyTorch's fused attention with an explicit mask aligned to the last key."""

import torch
import torch.nn.functional as F
from torch import nn


class CachedMultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(self, x, cache=None):
        batch, new, d_model = x.shape
        heads = lambda t: t.unflatten(-1, (self.num_heads, -1)).permute(0, 2, 1, 3)  # noqa: E731
        q, k, v = heads(self.W_Q(x)), heads(self.W_K(x)), heads(self.W_V(x))
        if cache is not None:
            k, v = torch.cat((cache[0], k), dim=-2), torch.cat((cache[1], v), dim=-2)
        total = k.shape[-2]
        query_pos = torch.arange(total - new, total, device=x.device)
        key_pos = torch.arange(total, device=x.device)
        allowed = key_pos[None, :] <= query_pos[:, None]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        return self.W_O(out.permute(0, 2, 1, 3).flatten(-2)), (k, v)
