"""Trusted checks for attention-mechanism-1: the learner's function against reference.py.

Cases cover 3-D and 4-D (multi-head) inputs, seq_q != seq_k, d_v != d_k, 0/1 and
bool masks, and large inputs. When numbers disagree, ``_variant`` recomputes the
reference with common mistakes applied and the matching one is named. d_k = 16,
so the advice reads "divide by sqrt(d_k) = 4".
"""

from __future__ import annotations

import math

import torch

from tracker.validation.judging import (
    FLOAT64,
    ROW_SUM_ATOL,
    Mistake,
    Outputs,
    Tolerance,
    compare,
    describe_shape,
    diagnose,
    explain,
    fail_all,
    load_sibling,
    tolerance_for,
)
from tracker.validation.lesson_api import CheckResult, PhaseResult

reference = load_sibling(__file__)

PHASES = ("main",)
ENTRY = "scaled_dot_product_attention"
D_K, D_V, SEQ_Q, SEQ_K, BATCH, HEADS = 16, 24, 5, 7, 2, 3
LARGE_SCALE = 30.0
# q and k scaled by 30 give scores up to ~2e3 in float32, whose rounding (~1e-4) moves
# the saturated weights: looser than FLOAT32 (correct code is off by ~4e-5 here), yet
# far tighter than a clamped or NaN-patched softmax, which is off by whole units.
LARGE_TOL = Tolerance(rtol=1e-3, atol=1e-3)
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "attention_weights",
    "masking",
    "numbers_float32",
    "finite_large_inputs",
)
UNMASKED = ("plain", "heads", "dv")
LABELS = {
    "plain": "3-D inputs",
    "heads": "4-D (batch, heads, seq, d) inputs",
    "dv": f"values with d_v = {D_V} != d_k = {D_K}",
}
MASKED = ("mask01", "maskbool")
MISTAKES = (
    Mistake(
        "no_scale",
        f"scores look unscaled: divide q @ k^T by sqrt(d_k) = "
        f"{math.sqrt(D_K):g} (d_k = q.shape[-1] = {D_K})",
        "scale",
    ),
    Mistake(
        "scale_dk",
        f"scores are divided by d_k = {D_K}; divide by sqrt(d_k) = {math.sqrt(D_K):g}",
        "scale",
    ),
    Mistake(
        "scale_seq",
        f"scores are divided by sqrt(seq_k) = sqrt({SEQ_K}); the scale is "
        f"sqrt(d_k), from the last axis: q.shape[-1] = {D_K}",
        "scale",
    ),
    Mistake(
        "scale_dv",
        f"scores are divided by sqrt(d_v), the values' last axis; the scale is "
        f"sqrt(d_k) = {math.sqrt(D_K):g} from q.shape[-1] (or k.shape[-1]), even when "
        f"d_v = {D_V} != d_k",
        "scale",
    ),
    Mistake(
        "softmax_queries",
        "the softmax runs over the queries (dim=-2); each query's "
        "weights must sum to 1 over the keys: softmax(scores, dim=-1)",
        "softmax",
    ),
    Mistake(
        "kv_swapped",
        "keys and values are swapped: scores use k (q @ k^T), the output uses v (weights @ v)",
        "kv",
    ),
    Mistake(
        "mask_inverted",
        "the mask is inverted: 1/True keeps a position, 0/False hides it "
        "(scores.masked_fill(mask == 0, float('-inf')))",
        "mask",
    ),
    Mistake(
        "mask_ignored",
        "the mask has no effect: set the scores where mask == 0 to -inf before the softmax",
        "mask",
    ),
    Mistake(
        "mask_zero_fill",
        "hidden scores are set to 0 instead of -inf, so hidden positions still get weight",
        "mask",
    ),
    Mistake(
        "mask_additive",
        "the 0/1 mask is added to the scores; hidden positions need -inf (masked_fill), not +0",
        "mask",
    ),
    Mistake(
        "mask_after_softmax",
        "the mask is applied after the softmax, so rows no longer "
        "sum to 1: fill the scores with -inf before the softmax",
        "mask",
    ),
)
_MASK_IDS = {m.id for m in MISTAKES if m.group == "mask"}


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    inputs: dict[str, torch.Tensor] = {}

    def case(name: str, lead: tuple[int, ...], d_v: int, mask: torch.Tensor | None) -> None:
        inputs[f"case.{name}.q"] = randn(*lead, SEQ_Q, D_K)
        inputs[f"case.{name}.k"] = randn(*lead, SEQ_K, D_K)
        inputs[f"case.{name}.v"] = randn(*lead, SEQ_K, d_v)
        if mask is not None:
            inputs[f"case.{name}.mask"] = mask

    rows, cols = torch.arange(SEQ_Q)[:, None], torch.arange(SEQ_K)[None, :]
    band = (cols <= rows + 2).to(torch.int64)  # 0/1, every row keeps at least three keys
    pad = torch.ones(BATCH, 1, 1, SEQ_K, dtype=torch.bool)
    pad[0, ..., -2:] = False
    pad[1, ..., :3] = False
    case("plain", (BATCH,), D_K, None)
    case("heads", (BATCH, HEADS), D_K, None)
    case("dv", (BATCH,), D_V, None)
    case("mask01", (BATCH,), D_K, band)
    case("maskbool", (BATCH, HEADS), D_K, pad)
    for n in ("q", "k", "v"):
        inputs[f"case.large.{n}"] = inputs[f"case.plain.{n}"] * LARGE_SCALE
    return inputs


def _variant(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    mistakes: frozenset[str],
) -> tuple[torch.Tensor, torch.Tensor]:
    if "kv_swapped" in mistakes:
        k, v = v, k
    scores = q @ k.transpose(-2, -1)
    if "scale_dk" in mistakes:
        scores = scores / q.shape[-1]
    elif "scale_seq" in mistakes:
        scores = scores / math.sqrt(k.shape[-2])
    elif "scale_dv" in mistakes:
        scores = scores / math.sqrt(v.shape[-1])
    elif "no_scale" not in mistakes:
        scores = scores / math.sqrt(q.shape[-1])
    if mask is not None:
        keep = mask != 0
        if "mask_inverted" in mistakes:
            scores = scores.masked_fill(keep, float("-inf"))
        elif "mask_zero_fill" in mistakes:
            scores = scores.masked_fill(~keep, 0.0)
        elif "mask_additive" in mistakes:
            scores = scores + mask.to(scores.dtype)
        elif not mistakes & {"mask_ignored", "mask_after_softmax"}:
            scores = scores.masked_fill(~keep, float("-inf"))
    weights = torch.softmax(scores, dim=-2 if "softmax_queries" in mistakes else -1)
    if mask is not None and "mask_after_softmax" in mistakes:
        weights = weights * (mask != 0)
    return weights @ v, weights


def _args(data: dict[str, torch.Tensor], case: str) -> tuple[torch.Tensor, ...]:
    q, k, v = (data[f"case.{case}.{n}"] for n in ("q", "k", "v"))
    return q, k, v, data.get(f"case.{case}.mask")


def _shapes(data: dict[str, torch.Tensor], case: str) -> dict[str, tuple[int, ...]]:
    q, k, v, _ = _args(data, case)
    return {"out": (*q.shape[:-1], v.shape[-1]), "weights": (*q.shape[:-1], k.shape[-2])}


def judge(
    inputs: dict[str, dict[str, torch.Tensor]], results: dict[str, PhaseResult], device: str
) -> list[CheckResult]:
    data = inputs["main"]
    got = Outputs(results.get("main"))
    if got.error:
        return fail_all(CHECKS, f"the submission did not run to the end: {got.error}")
    if got.note("construct"):
        return [
            CheckResult(
                "interface",
                False,
                f"{got.note('construct')}: define "
                f"{ENTRY}(q, k, v, mask=None) returning (output, weights)",
            ),
            *fail_all(CHECKS[1:], "not run: the interface check failed"),
        ]
    expected: dict[str, torch.Tensor] = {}
    actual: dict[str, torch.Tensor] = {}
    for case in (*UNMASKED, *MASKED):
        q, k, v, mask = _args(data, case)
        out, weights = reference.scaled_dot_product_attention(q, k, v, mask)
        expected[f"{case}.out"], expected[f"{case}.weights"] = out, weights
        for what, shape in _shapes(data, case).items():
            value = got.get(f"{case}.{what}", shape)
            if value is not None:
                actual[f"{case}.{what}"] = value

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        found: dict[str, torch.Tensor] = {}
        for case in (*UNMASKED, *MASKED):
            try:
                found[f"{case}.out"], found[f"{case}.weights"] = _variant(
                    *_args(data, case), mistakes
                )
            except RuntimeError:  # this mistake cannot run on this case (d_v != d_k)
                continue
        return found

    def close(cases: tuple[str, ...]) -> bool:
        keys = [f"{c}.{w}" for c in cases for w in ("out", "weights")]
        return all(k in actual and compare(actual[k], expected[k], FLOAT64).ok for k in keys)

    main_ok, mask_ok = close(UNMASKED), close(MASKED)
    found = None if main_ok and mask_ok else diagnose(actual, variant, MISTAKES)
    main_found = tuple(m for m in found or () if m.id not in _MASK_IDS)
    mask_found = tuple(m for m in found or () if m.id in _MASK_IDS)
    plain_note = got.note("plain") or ""
    interface = (
        CheckResult("interface", False, f"{ENTRY}: {plain_note}")
        if "expected a tuple" in plain_note
        else CheckResult("interface", True, f"{ENTRY} is defined")
    )
    return [
        interface,
        _output_shape(got, data),
        _numbers(got, actual, expected, main_ok, main_found),
        _weights(actual, main_ok, main_found),
        _masking(got, actual, main_ok, mask_ok, mask_found),
        _float32(got, expected, device, main_ok),
        _finite(got, data, main_ok),
    ]


def _output_shape(got: Outputs, data: dict[str, torch.Tensor]) -> CheckResult:
    for case, label in LABELS.items():
        for what, shape in _shapes(data, case).items():
            if got.get(f"{case}.{what}", shape) is None:
                return CheckResult(
                    "output_shape",
                    False,
                    f"with {label} the {what} {got.why(f'{case}.{what}')}"
                    f" (expected {describe_shape(shape)})",
                )
    return CheckResult(
        "output_shape",
        True,
        "output (..., seq_q, d_v) and weights "
        "(..., seq_q, seq_k) for 3-D, 4-D and d_v != d_k inputs",
    )


def _numbers(
    got: Outputs,
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    main_ok: bool,
    found: tuple[Mistake, ...],
) -> CheckResult:
    name = "numbers_float64"
    if main_ok:
        return CheckResult(name, True, "float64 outputs and weights match the reference")
    # main_ok is False, so some unmasked output is missing or differs: describe the first.
    case, what = next(
        (case, what)
        for case in UNMASKED
        for what in ("out", "weights")
        if f"{case}.{what}" not in actual
        or not compare(actual[f"{case}.{what}"], expected[f"{case}.{what}"], FLOAT64).ok
    )
    key, noun = f"{case}.{what}", "output" if what == "out" else "weights"
    if key not in actual:
        return CheckResult(
            name, False, f"no {noun} to compare for {LABELS[case]}: it {got.why(key)}"
        )
    detail = f"{LABELS[case]}: {noun} {compare(actual[key], expected[key], FLOAT64).describe()}"
    if found:
        return CheckResult(name, False, f"{explain(found)} ({detail})")
    return CheckResult(
        name,
        False,
        f"output differs from the reference ({detail}); check the scaling by "
        "sqrt(d_k), the softmax axis (dim=-1) and that the output is weights @ v",
    )


def _weights(
    actual: dict[str, torch.Tensor], main_ok: bool, found: tuple[Mistake, ...]
) -> CheckResult:
    name = "attention_weights"
    weights = actual.get("plain.weights")
    if weights is None:
        return CheckResult(name, False, "no weights of shape (batch, seq_q, seq_k) came back")
    off = float((weights.sum(dim=-1) - 1).abs().max())
    if not off <= ROW_SUM_ATOL:
        return CheckResult(
            name,
            False,
            f"rows of the weights do not sum to 1 (off by up to "
            f"{off:.3g}): softmax over the keys (dim=-1)",
        )
    if not main_ok:
        hint = f": {explain(found)}" if found else ""
        return CheckResult(
            name, False, f"rows sum to 1 but the weights differ from the reference{hint}"
        )
    return CheckResult(name, True, "weights are (..., seq_q, seq_k), rows sum to 1, values match")


def _masking(
    got: Outputs,
    actual: dict[str, torch.Tensor],
    main_ok: bool,
    mask_ok: bool,
    found: tuple[Mistake, ...],
) -> CheckResult:
    name = "masking"
    if mask_ok:
        return CheckResult(name, True, "0/1 and bool masks, broadcast, hide the right positions")
    described = {
        "mask01": f"a 0/1 int64 mask of shape {describe_shape((SEQ_Q, SEQ_K))}",
        "maskbool": f"a bool mask of shape {describe_shape((BATCH, 1, 1, SEQ_K))} on 4-D inputs",
    }
    for case, what in described.items():
        if f"{case}.out" not in actual:
            return CheckResult(
                name,
                False,
                f"with {what} the output {got.why(f'{case}.out')}: "
                "accept 0/1 and bool masks that broadcast against the scores",
            )
    if found:
        return CheckResult(name, False, explain(found))
    if not main_ok:
        return CheckResult(name, False, "masked outputs differ too; fix numbers_float64 first")
    return CheckResult(
        name,
        False,
        "unmasked outputs agree but masked ones differ: positions "
        "where mask == 0 must get -inf before the softmax",
    )


def _float32(
    got: Outputs, expected: dict[str, torch.Tensor], device: str, main_ok: bool
) -> CheckResult:
    name = "numbers_float32"
    tol = tolerance_for(torch.float32, device)
    for case in UNMASKED:
        key = f"f32.{case}.out"
        actual = got.get(key, tuple(expected[f"{case}.out"].shape))
        if actual is None:
            return CheckResult(
                name, False, f"in float32 on {device} the {case} case {got.why(key)}"
            )
        comparison = compare(actual, expected[f"{case}.out"], tol)
        if not comparison.ok:
            why = "see numbers_float64" if not main_ok else "something depends on the dtype"
            return CheckResult(
                name, False, f"float32 on {device}: {case} case {comparison.describe()} ({why})"
            )
    return CheckResult(
        name,
        True,
        f"float32 on {device} agrees with the reference (rtol {tol.rtol:g}, atol {tol.atol:g})",
    )


def _finite(got: Outputs, data: dict[str, torch.Tensor], main_ok: bool) -> CheckResult:
    name = "finite_large_inputs"
    q, k, v, _ = _args(data, "large")
    expected, _ = reference.scaled_dot_product_attention(q, k, v)
    key = "f32.large.out"
    out = got.get(key, tuple(expected.shape))
    scaled = f"q, k and v scaled by {LARGE_SCALE:g}"
    if out is None:
        return CheckResult(name, False, f"{scaled}: the float32 output {got.why(key)}")
    if not bool(torch.isfinite(out).all()):
        return CheckResult(
            name,
            False,
            f"{scaled} give NaN or inf in float32: use torch.softmax "
            "(or subtract each row's max before exp)",
        )
    comparison = compare(out, expected, LARGE_TOL)
    if not comparison.ok:
        advice = (
            "subtract the row max before exp (or use torch.softmax); clamping the "
            "scores or patching NaN with nan_to_num gives finite but wrong weights"
            if main_ok
            else "see numbers_float64"
        )
        return CheckResult(
            name, False, f"{scaled}: finite but wrong ({comparison.describe()}): {advice}"
        )
    return CheckResult(
        name,
        True,
        f"{scaled}: float32 outputs are finite and agree with the reference "
        f"(rtol {LARGE_TOL.rtol:g}, atol {LARGE_TOL.atol:g})",
    )
