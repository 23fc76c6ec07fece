"""A small GPT: fill in the TODOs, then `tracker submit gpt-architecture-2 FILE`.

The parameter names are the interface (the checks copy their own weights in by name):

    tok_emb   nn.Embedding(vocab_size, d_model)
    pos_emb   nn.Embedding(max_seq_len, d_model)
    blocks    nn.ModuleList of num_layers blocks, each with
                ln1  nn.LayerNorm(d_model)
                attn with W_Q, W_K, W_V, W_O, each nn.Linear(d_model, d_model)
                ln2  nn.LayerNorm(d_model)
                mlp  with fc1 nn.Linear(d_model, 4 * d_model), fc2 nn.Linear(4 * d_model, d_model)
    ln_f      nn.LayerNorm(d_model)
    head      nn.Linear(d_model, vocab_size, bias=False) whose weight IS tok_emb.weight

forward(tokens) takes int64 token ids (batch, seq) with seq <= max_seq_len and returns
logits (batch, seq, vocab_size); loss(tokens) returns the mean cross-entropy of the logits
at position t against the token at t + 1.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        # TODO: W_Q, W_K, W_V, W_O = nn.Linear(d_model, d_model); remember num_heads.

    def forward(self, x):
        # TODO: project, split heads (view + transpose), scores / sqrt(d_k), hide the keys
        # after each query with -inf, softmax over the keys, merge heads, W_O.
        raise NotImplementedError("CausalSelfAttention.forward is not written yet")


class Block(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        # TODO: ln1, attn, ln2 and mlp (fc1, GELU, fc2; an nn.Module with fc1 and fc2).

    def forward(self, x):
        # TODO: pre-norm: x = x + attn(ln1(x)), then x = x + mlp(ln2(x)).
        raise NotImplementedError("Block.forward is not written yet")


class GPT(nn.Module):
    def __init__(self, vocab_size, max_seq_len, d_model, num_heads, num_layers):
        super().__init__()
        # TODO: tok_emb, pos_emb, blocks, ln_f, and head tied to tok_emb
        # (self.head.weight = self.tok_emb.weight).
        raise NotImplementedError("GPT.__init__ is not written yet")

    def forward(self, tokens):
        # TODO: tok_emb(tokens) + pos_emb(positions 0..seq-1), the blocks, ln_f, head.
        raise NotImplementedError("GPT.forward is not written yet")

    def loss(self, tokens):
        # TODO: cross-entropy of the logits at t against the token at t + 1, averaged.
        raise NotImplementedError("GPT.loss is not written yet")
