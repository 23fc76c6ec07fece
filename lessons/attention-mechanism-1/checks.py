"""Trusted checks for attention-mechanism-1: the learner's function against reference.py.

Cases cover 3-D and 4-D (multi-head) inputs, seq_q != seq_k, d_v != d_k, 0/1 and
bool masks, and large inputs. When numbers disagree, the toolkit's ``attention``
recomputes the reference with the mistakes below applied and the matching one is
named. d_k = 16, so the advice reads "divide by sqrt(d_k) = 4".
"""

from __future__ import annotations

import math

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "scaled_dot_product_attention"
D_K, D_V, SEQ_Q, SEQ_K, BATCH, HEADS = 16, 24, 5, 7, 2, 3
LARGE_SCALE = 30.0
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "attention_weights",
    "masking",
    "numbers_float32",
    "finite_large_inputs",
)
INTERFACE = judging.define(f"{ENTRY}(q, k, v, mask=None) returning (output, weights)")
LABELS = {  # unmasked cases
    "plain": "3-D inputs",
    "heads": "4-D (batch, heads, seq, d) inputs",
    "dv": f"values with d_v = {D_V} != d_k = {D_K}",
}
MASKS = {  # masked cases: how a message describes the mask
    "mask01": f"a 0/1 int64 mask of shape ({SEQ_Q}, {SEQ_K})",
    "maskbool": f"a bool mask of shape ({BATCH}, 1, 1, {SEQ_K}) on 4-D inputs",
}
SQRT_DK = math.sqrt(D_K)
MISTAKES = (
    Mistake(
        "no_scale",
        f"scores look unscaled: divide q @ k^T by sqrt(d_k) = {SQRT_DK:g} "
        f"(d_k = q.shape[-1] = {D_K})",
        "scale",
    ),
    Mistake(
        "scale_dk", f"scores are divided by d_k = {D_K}; divide by sqrt(d_k) = {SQRT_DK:g}", "scale"
    ),
    Mistake(
        "scale_seq",
        f"scores are divided by sqrt(seq_k) = sqrt({SEQ_K}); the scale is sqrt(d_k), from the "
        f"last axis: q.shape[-1] = {D_K}",
        "scale",
    ),
    Mistake(
        "scale_dv",
        f"scores are divided by sqrt(d_v), the values' last axis; the scale is sqrt(d_k) = "
        f"{SQRT_DK:g} from q.shape[-1] (or k.shape[-1]), even when d_v = {D_V} != d_k",
        "scale",
    ),
    Mistake(
        "softmax_queries",
        "the softmax runs over the queries (dim=-2); each query's weights must sum to 1 over "
        "the keys: softmax(scores, dim=-1)",
        "softmax",
    ),
    Mistake(
        "kv_swapped",
        "keys and values are swapped: scores use k (q @ k^T), the output uses v (weights @ v)",
        "kv",
    ),
    *judging.mask_mistakes(),  # inverted, ignored, zero fill, additive, after softmax
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    rows, cols = torch.arange(SEQ_Q)[:, None], torch.arange(SEQ_K)[None, :]
    masks = {
        "mask01": (cols <= rows + 2).to(torch.int64),  # 0/1, every row keeps three keys or more
        "maskbool": judging.padding_mask(SEQ_K, slice(-2, None), slice(None, 3)),
    }
    cases = {  # name: (leading axes, d_v)
        "plain": ((BATCH,), D_K),
        "heads": ((BATCH, HEADS), D_K),
        "dv": ((BATCH,), D_V),
        "mask01": ((BATCH,), D_K),
        "maskbool": ((BATCH, HEADS), D_K),
    }
    inputs: dict[str, torch.Tensor] = {}
    for name, (lead, d_v) in cases.items():
        inputs[f"case.{name}.q"] = randn(*lead, SEQ_Q, D_K)
        inputs[f"case.{name}.k"] = randn(*lead, SEQ_K, D_K)
        inputs[f"case.{name}.v"] = randn(*lead, SEQ_K, d_v)
        if name in masks:
            inputs[f"case.{name}.mask"] = masks[name]
    for n in ("q", "k", "v"):
        inputs[f"case.large.{n}"] = inputs[f"case.plain.{n}"] * LARGE_SCALE
    return inputs


def _args(data: dict[str, torch.Tensor], case: str) -> tuple[torch.Tensor | None, ...]:
    return (*(data[f"case.{case}.{n}"] for n in ("q", "k", "v")), data.get(f"case.{case}.mask"))


def _shapes(data: dict[str, torch.Tensor], case: str) -> dict[str, tuple[int, ...]]:
    q, k, v, _ = _args(data, case)
    return {"out": (*q.shape[:-1], v.shape[-1]), "weights": (*q.shape[:-1], k.shape[-2])}


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    expected: dict[str, torch.Tensor] = {}
    for case in (*LABELS, *MASKS):
        out, weights = reference.scaled_dot_product_attention(*_args(data, case))
        expected[f"{case}.out"], expected[f"{case}.weights"] = out, weights
    actual = got.like(expected)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        found: dict[str, torch.Tensor] = {}
        for case in (*LABELS, *MASKS):
            try:
                found[f"{case}.out"], found[f"{case}.weights"] = judging.attention(
                    *_args(data, case), mistakes=mistakes
                )
            except RuntimeError:  # this mistake cannot run on this case (d_v != d_k)
                continue
        return found

    numbers = {f"{c}.{w}": LABELS[c] for c in LABELS for w in ("out", "weights")}
    masked = {f"{c}.{w}": what for c, what in MASKS.items() for w in ("out", "weights")}
    main_ok, mask_ok = (
        judging.agree(actual, expected, numbers),
        judging.agree(actual, expected, masked),
    )
    found = None if main_ok and mask_ok else judging.diagnose(actual, variant, MISTAKES)
    main_found = tuple(m for m in found or () if m.group != "mask")
    mask_found = tuple(m for m in found or () if m.group == "mask")
    plain_note = got.note("plain") or ""
    return [
        CheckResult("interface", False, f"{ENTRY}: {plain_note}")
        if "expected a tuple" in plain_note
        else CheckResult("interface", True, f"{ENTRY} is defined"),
        _output_shape(got, data),
        judging.numbers_check(
            got,
            actual,
            expected,
            numbers,
            found=main_found,
            passed="float64 outputs and weights match the reference",
            advice="check the scaling by sqrt(d_k), the softmax axis (dim=-1) and that the "
            "output is weights @ v",
        ),
        _weights(actual, main_ok, main_found),
        judging.masking_check(
            got,
            actual,
            expected,
            masked,
            numbers_ok=main_ok,
            found=mask_found,
            passed="0/1 and bool masks, broadcast, hide the right positions",
            accept="accept 0/1 and bool masks that broadcast against the scores",
        ),
        judging.float32_check(
            got,
            expected,
            {f"{c}.out": f"the {c} case" for c in LABELS},
            device,
            numbers_ok=main_ok,
            prefix="f32.",
        ),
        judging.finite_check(
            got,
            "f32.large.out",
            _shapes(data, "large")["out"],
            scaled=f"q, k and v scaled by {LARGE_SCALE:g}",
            expected=reference.scaled_dot_product_attention(*_args(data, "large"))[0],
            nan_advice="use torch.softmax (or subtract each row's max before exp)",
            wrong_advice="subtract the row max before exp (or use torch.softmax); clamping the "
            "scores or patching NaN with nan_to_num gives finite but wrong weights"
            if main_ok
            else "see numbers_float64",
        ),
    ]


def _output_shape(got: Outputs, data: dict[str, torch.Tensor]) -> CheckResult:
    for case, label in LABELS.items():
        for what, shape in _shapes(data, case).items():
            if got.get(f"{case}.{what}", shape) is None:
                return CheckResult(
                    "output_shape",
                    False,
                    f"with {label} the {what} {got.why(f'{case}.{what}')}"
                    f" (expected {judging.describe_shape(shape)})",
                )
    return CheckResult(
        "output_shape",
        True,
        "output (..., seq_q, d_v) and weights (..., seq_q, seq_k) for 3-D, 4-D and "
        "d_v != d_k inputs",
    )


def _weights(
    actual: dict[str, torch.Tensor], main_ok: bool, found: tuple[Mistake, ...]
) -> CheckResult:
    name = "attention_weights"
    weights = actual.get("plain.weights")
    if weights is None:
        return CheckResult(name, False, "no weights of shape (batch, seq_q, seq_k) came back")
    off = float((weights.sum(dim=-1) - 1).abs().max())
    if not off <= judging.ROW_SUM_ATOL:
        return CheckResult(
            name,
            False,
            f"rows of the weights do not sum to 1 (off by up to {off:.3g}): softmax over the "
            "keys (dim=-1)",
        )
    if not main_ok:
        hint = f": {judging.explain(found)}" if found else ""
        return CheckResult(
            name, False, f"rows sum to 1 but the weights differ from the reference{hint}"
        )
    return CheckResult(name, True, "weights are (..., seq_q, seq_k), rows sum to 1, values match")
