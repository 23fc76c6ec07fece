"""Every piece by hand: LayerNorm, einsum attention with an additive mask, log-softmax loss."""

import math

import torch
from torch import nn


class LayerNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        mu = x.mean(dim=-1, keepdim=True)
        var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + 1e-5) * self.weight + self.bias


class SelfAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.W_Q = nn.Linear(d_model, d_model)
        self.W_K = nn.Linear(d_model, d_model)
        self.W_V = nn.Linear(d_model, d_model)
        self.W_O = nn.Linear(d_model, d_model)

    def forward(self, x):
        b, t, d = x.shape
        dk = d // self.num_heads
        q = self.W_Q(x).reshape(b, t, self.num_heads, dk)
        k = self.W_K(x).reshape(b, t, self.num_heads, dk)
        v = self.W_V(x).reshape(b, t, self.num_heads, dk)
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dk)
        i = torch.arange(t, device=x.device)
        mask = torch.zeros(t, t, dtype=x.dtype, device=x.device)
        mask = mask.masked_fill(i[None, :] > i[:, None], float("-inf"))
        weights = torch.softmax(scores + mask, dim=-1)
        out = torch.einsum("bhqk,bkhd->bqhd", weights, v).reshape(b, t, d)
        return self.W_O(out)


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(0.5 * h * (1.0 + torch.erf(h / math.sqrt(2.0))))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = LayerNorm(d)
        self.attn = SelfAttention(d, heads)
        self.ln2 = LayerNorm(d)
        self.mlp = MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, max_seq_len, d_model, num_heads, num_layers):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_seq_len, d_model)
        self.blocks = nn.ModuleList()
        for _ in range(num_layers):
            self.blocks.append(Block(d_model, num_heads))
        self.ln_f = LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight

    def forward(self, tokens):
        seq = tokens.shape[1]
        x = self.tok_emb(tokens) + self.pos_emb.weight[:seq]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    def loss(self, tokens):
        logp = torch.log_softmax(self(tokens)[:, :-1], dim=-1)
        picked = logp.gather(-1, tokens[:, 1:, None]).squeeze(-1)
        return -picked.mean()
