"""Trusted checks for grouped-query-attention-3: the learner's module against reference.py.

Three configurations share one d_model = 128 and 8 query heads (d_head = 16):
GQA with 2 K/V heads, MQA with 1, and plain MHA with 8; W_K and W_V must be the
smaller nn.Linear(d_model, num_kv_heads * d_head). On disagreement, ``_variant``
recomputes with common mistakes (K/V heads tiled instead of interleaved, no
scaling, keys and values swapped, no W_O, inverted or ignored mask, a causal
mask of its own instead of the one passed in) and names the match. Masks: a 0/1
causal mask, and bool padding masks of shape (batch, 1, 1, seq_k) on self- and
cross-attention (seq_q != seq_k), so code that ignores the mask's values fails.
"""

from __future__ import annotations

import math

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "GroupedQueryAttention"
LAYERS = ("W_Q", "W_K", "W_V", "W_O")
D_MODEL, NUM_HEADS = 128, 8
D_HEAD = D_MODEL // NUM_HEADS
CONFIGS = {"gqa": 2, "mqa": 1, "mha": NUM_HEADS}  # name: num_kv_heads
BATCH, SEQ, SEQ_Q, SEQ_K = 2, 6, 5, 7
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "masking",
    "multi_query",
    "multi_head",
    "numbers_float32",
)
MISTAKES = (
    Mistake(
        "tile_grouping",
        "K/V heads are tiled (repeat) instead of interleaved: query head "
        "i must use K/V head i // (num_heads // num_kv_heads); use "
        "repeat_interleave(group, dim=1)",
        "group",
    ),
    Mistake(
        "no_scale", f"scores look unscaled: divide by sqrt(d_head) = {math.sqrt(D_HEAD):g}", "scale"
    ),
    Mistake(
        "scale_dmodel",
        f"scores are divided by sqrt(d_model); use sqrt(d_head) = {math.sqrt(D_HEAD):g}",
        "scale",
    ),
    Mistake(
        "kv_swapped", "keys and values are swapped: scores use k, the weighted sum uses v", "kv"
    ),
    Mistake("no_w_o", "the output projection W_O is never applied", "w_o"),
    *judging.mask_mistakes("mask_inverted", "mask_ignored", "mask_own_causal"),
)
CASES = {  # name: query, key and value inputs, and the mask input or None
    "self": (("x", "x", "x"), None),
    "cross": (("cq", "ck", "cv"), None),
    "causal": (("x", "x", "x"), "mask_causal"),
    "pad": (("x", "x", "x"), "mask_pad"),
    "padcross": (("cq", "ck", "cv"), "mask_padcross"),
}
MASKS = {  # key: how a message describes its mask
    "gqa.causal.out": f"a 0/1 causal mask of shape {judging.describe_shape((SEQ, SEQ))}",
    "gqa.pad.out": f"a bool padding mask of shape {judging.describe_shape((BATCH, 1, 1, SEQ))}",
    "gqa.padcross.out": (
        f"a bool padding mask of shape {judging.describe_shape((BATCH, 1, 1, SEQ_K))} on "
        f"cross-attention (seq_q = {SEQ_Q}, seq_k = {SEQ_K})"
    ),
}
OTHER_CONFIGS = (  # config, check, label
    ("mqa", "multi_query", "num_kv_heads = 1 (MQA)"),
    ("mha", "multi_head", f"num_kv_heads = {NUM_HEADS} (MHA)"),
)


def _interface_failed(construct: str) -> str:
    hint = ""
    if "W_K.weight" in construct or "W_V.weight" in construct:
        hint = (
            f": W_K and W_V project to num_kv_heads * d_head = {2 * D_HEAD} features "
            f"(nn.Linear(d_model, num_kv_heads * d_head)), smaller than W_Q"
        )
    return (
        f"could not build {ENTRY}({D_MODEL}, {NUM_HEADS}, 2) and load W_Q, W_K, W_V, W_O: "
        f"{construct}{hint}"
    )


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    inputs = {
        "x": randn(BATCH, SEQ, D_MODEL),
        "cq": randn(BATCH, SEQ_Q, D_MODEL),
        "ck": randn(BATCH, SEQ_K, D_MODEL),
        "cv": randn(BATCH, SEQ_K, D_MODEL),
        "mask_causal": torch.tril(torch.ones(SEQ, SEQ, dtype=torch.int64)),
        # Padding masks, True keeps: no causal pattern, every row keeps some keys, and
        # each batch element hides different ones.
        "mask_pad": judging.padding_mask(SEQ, slice(-2, None), slice(None, 3)),
        "mask_padcross": judging.padding_mask(SEQ_K, slice(-3, None), slice(None, 2)),
    }
    for config, kv in CONFIGS.items():
        inputs[f"{config}.config"] = torch.tensor([D_MODEL, NUM_HEADS, kv], dtype=torch.int64)
        for name in LAYERS:
            out = kv * D_HEAD if name in ("W_K", "W_V") else D_MODEL
            inputs[f"{config}.w.{name}.weight"] = randn(out, D_MODEL, scale=D_MODEL**-0.5)
            inputs[f"{config}.w.{name}.bias"] = randn(out, scale=0.1)
    return inputs


def _args(data: dict[str, torch.Tensor], case: str) -> tuple[torch.Tensor, ...]:
    names, mask = CASES[case]
    return tuple(data[n] for n in names) + ((data[mask],) if mask else ())


def _variant(
    data: dict[str, torch.Tensor],
    config: str,
    mistakes: frozenset[str],
    Q: torch.Tensor,  # noqa: N803
    K: torch.Tensor,  # noqa: N803
    V: torch.Tensor,  # noqa: N803
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    kv = CONFIGS[config]

    def project(name: str, x: torch.Tensor) -> torch.Tensor:
        w = f"{config}.w.{name}"
        return judging.linear(x, data[f"{w}.weight"], data[f"{w}.bias"])

    q = judging.split_heads(project("W_Q", Q), NUM_HEADS)
    k, v = judging.split_heads(project("W_K", K), kv), judging.split_heads(project("W_V", V), kv)
    group = NUM_HEADS // kv
    if "tile_grouping" in mistakes:
        k, v = k.repeat(1, group, 1, 1), v.repeat(1, group, 1, 1)
    else:
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    out = judging.merge_heads(
        judging.attention(q, k, v, mask, mistakes=mistakes, d_model=D_MODEL)[0]
    )
    return out if "no_w_o" in mistakes else project("W_O", out)


@judging.judged(CHECKS, _interface_failed, construct=("construct", "gqa.construct"))
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    expected: dict[str, torch.Tensor] = {}
    for config in CONFIGS:
        ref = reference.GroupedQueryAttention(D_MODEL, NUM_HEADS, CONFIGS[config]).double()
        judging.copy_linears(ref.eval(), data, f"{config}.w.", LAYERS)
        for case in CASES:
            with torch.no_grad():
                expected[f"{config}.{case}.out"] = ref(*_args(data, case))[0]
    actual = got.like(expected)

    def diagnosis(config: str) -> tuple[Mistake, ...] | None:
        def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
            return {
                f"{config}.{c}.out": _variant(data, config, mistakes, *_args(data, c))
                for c in CASES
            }

        return judging.diagnose(
            {k: v for k, v in actual.items() if k.startswith(f"{config}.")}, variant, MISTAKES
        )

    labels = {"gqa.self.out": "GQA self-attention", "gqa.cross.out": "GQA cross-attention"}
    gqa_ok = judging.agree(actual, expected, labels)
    found = None if gqa_ok and judging.agree(actual, expected, MASKS) else diagnosis("gqa")
    missing = [key for key in labels if key not in actual]
    checks = [
        CheckResult(
            "interface",
            True,
            f"W_K and W_V are nn.Linear({D_MODEL}, num_kv_heads * {D_HEAD}), W_Q and W_O "
            f"nn.Linear({D_MODEL}, {D_MODEL})",
        ),
        CheckResult(
            "output_shape", False, f"{labels[missing[0]]}: the output {got.why(missing[0])}"
        )
        if missing
        else CheckResult("output_shape", True, "outputs are (batch, seq_q, d_model)"),
        judging.numbers_check(
            got,
            actual,
            expected,
            labels,
            found=tuple(m for m in found or () if m.group != "mask"),
            passed="GQA (8 query heads, 2 K/V heads) matches the reference",
            advice="check the K/V head grouping, the scaling, keys versus values and W_O",
        ),
        judging.masking_check(
            got,
            actual,
            expected,
            MASKS,
            numbers_ok=gqa_ok,
            found=tuple(m for m in found or () if m.group == "mask"),
            passed="a 0/1 causal mask and bool (batch, 1, 1, seq_k) padding masks, on self- "
            "and cross-attention, hide exactly the positions where mask == 0",
            accept="accept 0/1 and bool masks that broadcast against the scores (batch, "
            "num_heads, seq_q, seq_k)",
            unexplained="the mask was not applied as given",
            advice="hide exactly the positions where mask == 0 (False), whatever the mask's "
            "pattern, and keep every other position",
        ),
    ]
    for config, check, label in OTHER_CONFIGS:
        keys = [f"{config}.{c}.out" for c in CASES]
        if judging.agree(actual, expected, keys):
            checks.append(CheckResult(check, True, f"{label} matches the reference"))
            continue
        note = got.note(f"{config}.construct") or next(
            (f"the output {got.why(k)}" for k in keys if k not in actual), None
        )
        if note:
            message = (
                f"with {label}: {note}; derive the group size from the arguments: "
                "num_heads // num_kv_heads"
            )
        else:
            mine = diagnosis(config)
            message = f"with {label} the output differs" + (
                f": {judging.explain(mine)}" if mine else ""
            )
        checks.append(CheckResult(check, False, message))
    checks.append(
        judging.float32_check(
            got,
            {"gqa.f32.out": expected["gqa.self.out"]},
            {"gqa.f32.out": "GQA self-attention"},
            device,
            numbers_ok=gqa_ok,
        )
    )
    return checks
