"""Wrong: is_causal=mask is not None ignores the values of the mask it is given.

Passes with a causal mask; a padding mask is replaced by a causal one.
"""

import torch.nn as nn
import torch.nn.functional as F


class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, num_heads, num_kv_heads):
        super().__init__()
        self.h, self.kv, self.dh = num_heads, num_kv_heads, d_model // num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, num_kv_heads * self.dh)
        self.W_V = nn.Linear(d_model, num_kv_heads * self.dh)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(self, Q, K, V, mask=None):
        b, sq, d = Q.shape
        sk = K.shape[1]
        q = self.W_Q(Q).view(b, sq, self.h, self.dh).transpose(1, 2)
        k = self.W_K(K).view(b, sk, self.kv, self.dh).transpose(1, 2)
        v = self.W_V(V).view(b, sk, self.kv, self.dh).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=mask is not None, enable_gqa=True)
        return self.W_O(out.transpose(1, 2).reshape(b, sq, d))
