"""Reference induction-head scores, and a tiny attention-only model with heads planted in it.

Scores: patterns are ``(layers, heads, seq, seq)``, indexed [query, key], for a random
sequence of ``first_len`` tokens repeated twice. A token at position i >= first_len last
occurred at i - first_len; an induction head attends to the token right after that,
i - first_len + 1. A previous-token head attends from i to i - 1.

The planted model: two layers of attention only (no MLPs, no LayerNorm), written weight
by weight. The residual stream has three subspaces: the current token (one-hot), the
position (one-hot) and a "previous token" slot. In layer 0 a previous-token head reads
positions (query i matches key j when j + 1 == i) and copies the token it attends to into
the previous-token slot. In layer 1 an induction head matches the current token against
that slot (query i matches key j when token[j - 1] == token[i]): K-composition, the two
head circuit of Olsson et al. (2022). The other heads are decoys: a head that attends to
itself, a duplicate-token head (the earlier occurrence of the same token, which is what
an off-by-one induction score finds) and random heads. Where each sits is drawn from the
seed, so nothing can be hard-coded.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

SHARPNESS = 12.0  # planted heads' score for a match, after the 1/sqrt(d_head) scaling


def induction_scores(patterns: torch.Tensor, first_len: int) -> torch.Tensor:
    """Mean attention from each second-half position i to i - first_len + 1: (layers, heads)."""
    rows = torch.arange(first_len, 2 * first_len, device=patterns.device)
    return patterns[..., rows, rows - first_len + 1].mean(dim=-1)


def previous_token_scores(patterns: torch.Tensor) -> torch.Tensor:
    """Mean attention from each position i >= 1 to i - 1: (layers, heads)."""
    return patterns.diagonal(offset=-1, dim1=-2, dim2=-1).mean(dim=-1)


class PlantedModel(NamedTuple):
    """Per layer, W_Q and W_K (heads, d_model, d_head) and the OV map (heads, d_model,
    d_model); ``roles[layer][head]`` names each head ("previous", "induction", ...)."""

    embed: torch.Tensor  # (vocab, d_model)
    positions: torch.Tensor  # (max_seq, d_model)
    w_q: tuple[torch.Tensor, ...]
    w_k: tuple[torch.Tensor, ...]
    w_ov: tuple[torch.Tensor, ...]
    roles: tuple[tuple[str, ...], ...]


def planted_model(vocab: int, max_seq: int, heads: int, generator: torch.Generator) -> PlantedModel:
    """Two attention-only layers of ``heads`` heads with the circuit planted at random places."""
    tok, pos, prev = 0, vocab, vocab + max_seq  # where each subspace starts
    d_model, d_head = 2 * vocab + max_seq, vocab + max_seq
    beta = SHARPNESS * math.sqrt(d_head)  # undo the 1/sqrt(d_head) of the scores
    eye_v, eye_p = torch.eye(vocab, dtype=torch.float64), torch.eye(max_seq, dtype=torch.float64)
    embed = torch.zeros(vocab, d_model, dtype=torch.float64)
    embed[:, tok : tok + vocab] = eye_v
    positions = torch.zeros(max_seq, d_model, dtype=torch.float64)
    positions[:, pos : pos + max_seq] = eye_p
    layers = []
    for planted in (("previous", "self"), ("induction", "duplicate")):
        roles = list(planted) + ["random"] * (heads - len(planted))
        order = torch.randperm(heads, generator=generator).tolist()
        roles = [roles[i] for i in order]
        w_q = torch.zeros(heads, d_model, d_head, dtype=torch.float64)
        w_k = torch.zeros_like(w_q)
        w_ov = torch.zeros(heads, d_model, d_model, dtype=torch.float64)
        for head, role in enumerate(roles):
            if role == "previous":  # q: position i; k: position j shifted to j + 1
                w_q[head, pos : pos + max_seq, vocab:] = beta * eye_p
                w_k[head, pos : pos + max_seq - 1, vocab + 1 :] = eye_p[:-1, :-1]
                w_ov[head, tok : tok + vocab, prev : prev + vocab] = eye_v  # token -> slot
            elif role == "self":
                w_q[head, pos : pos + max_seq, vocab:] = beta * eye_p
                w_k[head, pos : pos + max_seq, vocab:] = eye_p
            elif role == "induction":  # q: current token; k: the previous-token slot
                w_q[head, tok : tok + vocab, :vocab] = beta * eye_v
                w_k[head, prev : prev + vocab, :vocab] = eye_v
            elif role == "duplicate":  # same token, minus a match with itself
                w_q[head, tok : tok + vocab, :vocab] = beta * eye_v
                w_k[head, tok : tok + vocab, :vocab] = eye_v
                w_q[head, pos : pos + max_seq, vocab:] = -beta * eye_p
                w_k[head, pos : pos + max_seq, vocab:] = eye_p
            else:
                scale = (d_model * d_head) ** -0.25 * 2.0
                w_q[head] = torch.randn(d_model, d_head, generator=generator, dtype=torch.float64)
                w_k[head] = torch.randn(d_model, d_head, generator=generator, dtype=torch.float64)
                w_q[head] *= scale
                w_k[head] *= scale
        layers.append((w_q, w_k, w_ov, tuple(roles)))
    return PlantedModel(
        embed=embed,
        positions=positions,
        w_q=tuple(layer[0] for layer in layers),
        w_k=tuple(layer[1] for layer in layers),
        w_ov=tuple(layer[2] for layer in layers),
        roles=tuple(layer[3] for layer in layers),
    )


def attention_patterns(model: PlantedModel, tokens: torch.Tensor) -> torch.Tensor:
    """Every head's causal attention pattern on ``tokens`` (seq,): (layers, heads, seq, seq)."""
    seq = tokens.shape[0]
    x = model.embed[tokens] + model.positions[:seq]
    future = torch.ones(seq, seq, dtype=torch.bool).triu(1)
    patterns = []
    for w_q, w_k, w_ov in zip(model.w_q, model.w_k, model.w_ov, strict=True):
        q = torch.einsum("sd,hde->hse", x, w_q)
        k = torch.einsum("sd,hde->hse", x, w_k)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        pattern = torch.softmax(scores.masked_fill(future, -math.inf), dim=-1)
        x = x + torch.einsum("hqk,kd,hde->qe", pattern, x, w_ov)
        patterns.append(pattern)
    return torch.stack(patterns)
