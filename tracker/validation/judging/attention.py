"""Attention as a learner might have written it: the reference maths with named mistakes.

Diagnosis by hypothesis (see ``core.diagnose``) needs the reference recomputed with a
mistake applied. Attention lessons share most of their mistakes (no scaling, the wrong
softmax axis, keys and values swapped, a mask applied the wrong way), so the variant
lives here once; a lesson adds only what is particular to it (projections, head
grouping, tiling) around these functions.

Mistake ids understood by ``attention`` (a lesson's ``Mistake`` table names the ones it
diagnoses and carries its own advice, with the sizes its learners see):

- scaling: ``no_scale``, ``scale_dk`` (divided by d_k), ``scale_seq`` (by sqrt(seq_k)),
  ``scale_dv`` (by sqrt(d_v)), ``scale_dmodel`` (by sqrt(d_model); pass ``d_model``)
- softmax axis: ``softmax_queries`` (dim -2), ``softmax_heads`` (dim -3), ``softmax_batch`` (dim 0)
- ``kv_swapped``: keys used as values and values as keys
- masks (True/nonzero keeps): ``mask_inverted``, ``mask_ignored``, ``mask_zero_fill`` (hidden
  scores set to 0), ``mask_additive`` (the 0/1 mask added to the scores),
  ``mask_after_softmax`` (weights multiplied by the mask), ``mask_own_causal`` (a causal
  mask of its own whenever a mask is passed)
- causal (``causal=True``): ``causal_excludes_diagonal``, ``causal_one_ahead``, ``causal_ignored``
- multi-head (``multi_head_attention``, ``project_heads``, ``project_output``): ``no_bias``,
  ``split_no_transpose``, ``merge_no_transpose``, ``no_w_o``
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set

import torch

from tracker.validation.judging.core import Mistake

SOFTMAX_AXES = {"softmax_queries": -2, "softmax_heads": -3, "softmax_batch": 0}
_KEEP = "masked_fill(mask == 0, float('-inf'))"
# The mask mistakes read alike in every lesson (no sizes in them): pick with mask_mistakes.
MASK_MISTAKES = {
    m.id: m
    for m in (
        Mistake(
            "mask_inverted",
            f"the mask is inverted: 1/True keeps a position, 0/False hides it (scores.{_KEEP})",
            "mask",
        ),
        Mistake(
            "mask_ignored",
            "the mask has no effect: set the scores where mask == 0 to -inf before the softmax",
            "mask",
        ),
        Mistake(
            "mask_zero_fill",
            "hidden scores are set to 0 instead of -inf, so hidden positions still get "
            f"weight: {_KEEP}",
            "mask",
        ),
        Mistake(
            "mask_additive",
            f"the 0/1 mask is added to the scores; hiding a position needs -inf there ({_KEEP}), "
            "not +0",
            "mask",
        ),
        Mistake(
            "mask_after_softmax",
            "the mask is applied after the softmax, so the kept weights no longer sum to 1: "
            "fill the scores with -inf before the softmax",
            "mask",
        ),
        Mistake(
            "mask_own_causal",
            "the mask was not applied as given: a causal mask is used (is_causal=True or a "
            "triu of its own) whenever a mask is passed; apply the mask itself: "
            f"scores.{_KEEP}, or attn_mask=mask.bool()",
            "mask",
        ),
    )
}


COMMON_MASK_MISTAKES = (
    "mask_inverted",
    "mask_ignored",
    "mask_zero_fill",
    "mask_additive",
    "mask_after_softmax",
)


def mask_mistakes(*ids: str) -> tuple[Mistake, ...]:
    """The standard mask mistakes named (``mask_mistakes("mask_inverted", ...)``); without
    names, the five any mask argument invites (``COMMON_MASK_MISTAKES``)."""
    return tuple(MASK_MISTAKES[i] for i in ids or COMMON_MASK_MISTAKES)


def attention_mistakes(
    *ids: str, d_k: int, d_model: int | None = None, size: str = "d_k"
) -> tuple[Mistake, ...]:
    """The standard attention mistakes named, with advice in the sizes the lesson's learners
    see: ``d_k`` the per-head width (``size`` is what the lesson calls it, "d_k", "d_head"),
    ``d_model`` the model width (``scale_dmodel`` needs it). Ids: ``no_scale``, ``scale_dk``,
    ``scale_dmodel``, ``softmax_queries``, ``kv_swapped``, ``split_no_transpose``,
    ``merge_no_transpose``, ``no_w_o``."""
    root = f"sqrt({size}) = {math.sqrt(d_k):g}"
    messages = {
        "no_scale": (f"scores look unscaled: divide q @ k^T by {root} before the softmax", "scale"),
        "scale_dk": (f"scores are divided by {size} = {d_k}; divide by {root}", "scale"),
        "softmax_queries": (
            "the softmax runs over the queries (dim=-2); each query's weights must sum to 1 "
            "over the keys: softmax(scores, dim=-1)",
            "softmax",
        ),
        "kv_swapped": (
            "keys and values are swapped: scores use k (q @ k^T), the output uses v (weights @ v)",
            "kv",
        ),
        "split_no_transpose": (
            f"heads are split with a plain view to (batch, num_heads, seq, {size}), which mixes "
            f"positions into heads: use .view(batch, seq, num_heads, {size}).transpose(1, 2)",
            "split",
        ),
        "merge_no_transpose": (
            "heads are merged without transposing back: .transpose(1, 2) before "
            ".reshape(batch, seq, d_model)",
            "merge",
        ),
        "no_w_o": ("the output projection W_O is never applied", "w_o"),
    }
    if d_model is not None:
        messages["scale_dmodel"] = (
            f"scores are divided by sqrt(d_model) = {math.sqrt(d_model):g}; the scale uses the "
            f"per-head size, {root}",
            "scale",
        )
    unknown = [i for i in ids if i not in messages]
    if unknown:
        raise ValueError(
            f"no standard attention mistake {unknown[0]!r} (scale_dmodel needs d_model)"
        )
    return tuple(Mistake(i, *messages[i]) for i in ids)


def causal_hidden(rows: torch.Tensor, cols: torch.Tensor, mistakes: Set[str]) -> torch.Tensor:
    """Where a causal mask hides (True) for query indices ``rows`` and key indices ``cols``
    (broadcast against each other), with the causal mistakes applied."""
    if "causal_excludes_diagonal" in mistakes:
        return cols >= rows
    if "causal_one_ahead" in mistakes:
        return cols > rows + 1
    return cols > rows


def scale_of(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mistakes: Set[str],
    *,
    d_model: int | None = None,
) -> float:
    """What the scores are divided by: sqrt(d_k), or what a scaling mistake divides by."""
    if "no_scale" in mistakes:
        return 1.0
    if "scale_dk" in mistakes:
        return float(q.shape[-1])
    if "scale_seq" in mistakes:
        return math.sqrt(k.shape[-2])
    if "scale_dv" in mistakes:
        return math.sqrt(v.shape[-1])
    if "scale_dmodel" in mistakes:
        if d_model is None:
            raise ValueError("scale_dmodel needs d_model")
        return math.sqrt(d_model)
    return math.sqrt(q.shape[-1])


def masked_scores(
    scores: torch.Tensor, mask: torch.Tensor | None, mistakes: Set[str]
) -> torch.Tensor:
    """``scores`` with ``mask`` (nonzero/True keeps) applied as the mask mistakes say."""
    if mask is None or mistakes & {"mask_ignored", "mask_after_softmax"}:
        return scores
    if "mask_own_causal" in mistakes:
        mask = torch.ones(scores.shape[-2], scores.shape[-1], dtype=torch.bool).tril()
    keep = mask != 0
    if "mask_inverted" in mistakes:
        return scores.masked_fill(keep, float("-inf"))
    if "mask_zero_fill" in mistakes:
        return scores.masked_fill(~keep, 0.0)
    if "mask_additive" in mistakes:
        return scores + mask.to(scores.dtype)
    return scores.masked_fill(~keep, float("-inf"))


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    mistakes: Set[str] = frozenset(),
    causal: bool = False,
    d_model: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(softmax(q k^T / sqrt(d_k)) v, weights)`` with ``mistakes`` applied (ids above).

    Shapes as ``scaled_dot_product_attention``: q ``(..., seq_q, d_k)``, k ``(..., seq_k, d_k)``,
    v ``(..., seq_k, d_v)``, a mask broadcasting against the scores; ``causal`` is
    top-left aligned (query i sees keys 0..i). A mistake that cannot run on these shapes
    (keys swapped with values of another width) raises RuntimeError, which ``diagnose``
    takes as "not this mistake".
    """
    if "kv_swapped" in mistakes:
        k, v = v, k
    scores = (q @ k.transpose(-2, -1)) / scale_of(q, k, v, mistakes, d_model=d_model)
    if causal and "causal_ignored" not in mistakes:
        rows = torch.arange(q.shape[-2])[:, None]
        cols = torch.arange(k.shape[-2])[None, :]
        scores = scores.masked_fill(causal_hidden(rows, cols, mistakes), float("-inf"))
    scores = masked_scores(scores, mask, mistakes)
    dim = next((SOFTMAX_AXES[m] for m in sorted(mistakes) if m in SOFTMAX_AXES), -1)
    weights = torch.softmax(scores, dim=dim)
    if mask is not None and "mask_after_softmax" in mistakes:
        weights = weights * (mask != 0)
    return weights @ v, weights


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``nn.Linear`` as a function (``bias`` None: the no-bias mistake)."""
    y = x @ weight.T
    return y if bias is None else y + bias


def split_heads(x: torch.Tensor, heads: int, *, plain_view: bool = False) -> torch.Tensor:
    """``(batch, seq, heads * d_head)`` to ``(batch, heads, seq, d_head)``; ``plain_view`` is
    the mistake of reshaping straight to the target shape, which mixes positions into heads."""
    batch, seq, width = x.shape
    if plain_view:
        return x.reshape(batch, heads, seq, width // heads)
    return x.view(batch, seq, heads, width // heads).transpose(1, 2)


def merge_heads(x: torch.Tensor, *, plain_view: bool = False) -> torch.Tensor:
    """``(batch, heads, seq, d_head)`` back to ``(batch, seq, heads * d_head)``; ``plain_view``
    is the mistake of reshaping without transposing back first."""
    batch, heads, seq, d_head = x.shape
    if plain_view:
        return x.reshape(batch, seq, heads * d_head)
    return x.transpose(1, 2).reshape(batch, seq, heads * d_head)


def copy_linears(
    module: torch.nn.Module, inputs: dict[str, torch.Tensor], prefix: str, layers: Sequence[str]
) -> torch.nn.Module:
    """Load ``{prefix}{layer}.weight`` and ``.bias`` into a trusted reference module's
    ``nn.Linear`` layers (the same weights the probe loads into the learner's)."""
    with torch.no_grad():
        for name in layers:
            getattr(module, name).weight.copy_(inputs[f"{prefix}{name}.weight"])
            getattr(module, name).bias.copy_(inputs[f"{prefix}{name}.bias"])
    return module


def project_heads(
    x: torch.Tensor,
    weights: Mapping[str, torch.Tensor],
    layer: str,
    heads: int,
    *,
    mistakes: Set[str] = frozenset(),
) -> torch.Tensor:
    """``x`` through the trusted linear ``{layer}.weight`` / ``.bias`` of ``weights``, split into
    ``(batch, heads, seq, d_head)``; ``no_bias`` and ``split_no_transpose`` apply."""
    bias = None if "no_bias" in mistakes else weights[f"{layer}.bias"]
    projected = linear(x, weights[f"{layer}.weight"], bias)
    return split_heads(projected, heads, plain_view="split_no_transpose" in mistakes)


def project_output(
    heads: torch.Tensor,
    weights: Mapping[str, torch.Tensor],
    *,
    layer: str = "W_O",
    mistakes: Set[str] = frozenset(),
) -> torch.Tensor:
    """Per-head outputs ``(batch, heads, seq, d_head)`` merged and through ``layer``;
    ``merge_no_transpose``, ``no_w_o`` and ``no_bias`` apply."""
    merged = merge_heads(heads, plain_view="merge_no_transpose" in mistakes)
    if "no_w_o" in mistakes:
        return merged
    bias = None if "no_bias" in mistakes else weights[f"{layer}.bias"]
    return linear(merged, weights[f"{layer}.weight"], bias)


def multi_head_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    weights: Mapping[str, torch.Tensor],
    heads: int,
    mask: torch.Tensor | None = None,
    *,
    causal: bool = False,
    mistakes: Set[str] = frozenset(),
    layers: Sequence[str] = ("W_Q", "W_K", "W_V", "W_O"),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head attention as a function of trusted weights (``{layer}.weight`` and ``.bias``
    for the four ``layers``, query/key/value/output), with the mistake ids of this module
    applied: ``(output (batch, seq_q, d_model), weights (batch, heads, seq_q, seq_k))``.

    The variant of a lesson whose module holds W_Q, W_K, W_V, W_O as ``nn.Linear`` layers
    (multi-head attention with a cache, a transformer block): the same weights the probe
    loads into the learner's layers give the reference numbers, and a mistake id the
    numbers of that mistake.
    """
    w_q, w_k, w_v, w_o = layers
    q, k, v = (
        project_heads(x, weights, name, heads, mistakes=mistakes)
        for name, x in ((w_q, query), (w_k, key), (w_v, value))
    )
    out, attention_weights = attention(
        q, k, v, mask, mistakes=mistakes, causal=causal, d_model=query.shape[-1]
    )
    return project_output(out, weights, layer=w_o, mistakes=mistakes), attention_weights
