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

from tracker.validation.judging import (
    FLOAT64,
    Mistake,
    Outputs,
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
    Mistake(
        "mask_inverted", "the mask is inverted: 1/True keeps a position, 0/False hides it", "mask"
    ),
    Mistake(
        "mask_ignored",
        "the mask has no effect: set scores where mask == 0 to -inf before the softmax",
        "mask",
    ),
    Mistake(
        "mask_own_causal",
        "the mask was not applied as given: a causal mask is used (is_causal=True or a "
        "triu of its own) whenever a mask is passed; apply the mask itself: "
        "scores.masked_fill(mask == 0, float('-inf')), or attn_mask=mask.bool()",
        "mask",
    ),
)
MASK_CASES = {  # case: how a message describes its mask
    "causal": f"a 0/1 causal mask of shape {describe_shape((SEQ, SEQ))}",
    "pad": f"a bool padding mask of shape {describe_shape((BATCH, 1, 1, SEQ))}",
    "padcross": (
        f"a bool padding mask of shape {describe_shape((BATCH, 1, 1, SEQ_K))} on "
        f"cross-attention (seq_q = {SEQ_Q}, seq_k = {SEQ_K})"
    ),
}


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def randn(*shape: int, scale: float = 1.0) -> torch.Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    inputs = {
        "x": randn(BATCH, SEQ, D_MODEL),
        "cq": randn(BATCH, SEQ_Q, D_MODEL),
        "ck": randn(BATCH, SEQ_K, D_MODEL),
        "cv": randn(BATCH, SEQ_K, D_MODEL),
        "mask_causal": torch.tril(torch.ones(SEQ, SEQ, dtype=torch.int64)),
    }
    # Padding masks, (batch, 1, 1, seq_k), True keeps: no causal pattern, every row keeps
    # some keys, and each batch element hides different ones.
    pad = torch.ones(BATCH, 1, 1, SEQ, dtype=torch.bool)
    pad[0, ..., -2:] = False
    pad[1, ..., :3] = False
    padcross = torch.ones(BATCH, 1, 1, SEQ_K, dtype=torch.bool)
    padcross[0, ..., -3:] = False
    padcross[1, ..., :2] = False
    inputs["mask_pad"], inputs["mask_padcross"] = pad, padcross
    for config, kv in CONFIGS.items():
        inputs[f"{config}.config"] = torch.tensor([D_MODEL, NUM_HEADS, kv], dtype=torch.int64)
        for name in LAYERS:
            out = kv * D_HEAD if name in ("W_K", "W_V") else D_MODEL
            inputs[f"{config}.w.{name}.weight"] = randn(out, D_MODEL, scale=D_MODEL**-0.5)
            inputs[f"{config}.w.{name}.bias"] = randn(out, scale=0.1)
    return inputs


def _cases(data: dict[str, torch.Tensor]) -> dict[str, tuple[torch.Tensor, ...]]:
    x = data["x"]
    return {
        "self": (x, x, x),
        "cross": (data["cq"], data["ck"], data["cv"]),
        "causal": (x, x, x, data["mask_causal"]),
        "pad": (x, x, x, data["mask_pad"]),
        "padcross": (data["cq"], data["ck"], data["cv"], data["mask_padcross"]),
    }


def _reference(data: dict[str, torch.Tensor], config: str) -> torch.nn.Module:
    module = reference.GroupedQueryAttention(D_MODEL, NUM_HEADS, CONFIGS[config]).double().eval()
    with torch.no_grad():
        for name in LAYERS:
            getattr(module, name).weight.copy_(data[f"{config}.w.{name}.weight"])
            getattr(module, name).bias.copy_(data[f"{config}.w.{name}.bias"])
    return module


def _variant(
    data: dict[str, torch.Tensor],
    config: str,
    mistakes: frozenset[str],
    Q: torch.Tensor,
    K: torch.Tensor,
    V: torch.Tensor,  # noqa: N803
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    kv = CONFIGS[config]
    b, sq, d = Q.shape
    group = NUM_HEADS // kv

    def project(name: str, x: torch.Tensor, heads: int) -> torch.Tensor:
        y = x @ data[f"{config}.w.{name}.weight"].T + data[f"{config}.w.{name}.bias"]
        return y.view(b, x.shape[1], heads, D_HEAD).transpose(1, 2)

    q, k, v = project("W_Q", Q, NUM_HEADS), project("W_K", K, kv), project("W_V", V, kv)
    if "tile_grouping" in mistakes:
        k, v = k.repeat(1, group, 1, 1), v.repeat(1, group, 1, 1)
    else:
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    if "kv_swapped" in mistakes:
        k, v = v, k
    scores = q @ k.transpose(-2, -1)
    if "scale_dmodel" in mistakes:
        scores = scores / math.sqrt(d)
    elif "no_scale" not in mistakes:
        scores = scores / math.sqrt(D_HEAD)
    if mask is not None and "mask_own_causal" in mistakes:
        mask = torch.tril(torch.ones(sq, K.shape[1], dtype=torch.bool))
    if mask is not None and "mask_ignored" not in mistakes:
        hide = (mask != 0) if "mask_inverted" in mistakes else (mask == 0)
        scores = scores.masked_fill(hide, float("-inf"))
    out = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, sq, d)
    if "no_w_o" in mistakes:
        return out
    return out @ data[f"{config}.w.W_O.weight"].T + data[f"{config}.w.W_O.bias"]


def judge(
    inputs: dict[str, dict[str, torch.Tensor]], results: dict[str, PhaseResult], device: str
) -> list[CheckResult]:
    data = inputs["main"]
    got = Outputs(results.get("main"))
    if got.error:
        return fail_all(CHECKS, f"the submission did not run to the end: {got.error}")
    construct = got.note("construct") or got.note("gqa.construct")
    if construct:
        hint = ""
        if "W_K.weight" in construct or "W_V.weight" in construct:
            hint = (
                f": W_K and W_V project to num_kv_heads * d_head = {2 * D_HEAD} features "
                f"(nn.Linear(d_model, num_kv_heads * d_head)), smaller than W_Q"
            )
        return [
            CheckResult(
                "interface",
                False,
                f"could not build {ENTRY}({D_MODEL}, {NUM_HEADS}, 2)"
                f" and load W_Q, W_K, W_V, W_O: {construct}{hint}",
            ),
            *fail_all(CHECKS[1:], "not run: the interface check failed"),
        ]
    cases = _cases(data)
    shapes = {
        "self": (BATCH, SEQ, D_MODEL),
        "cross": (BATCH, SEQ_Q, D_MODEL),
        "causal": (BATCH, SEQ, D_MODEL),
        "pad": (BATCH, SEQ, D_MODEL),
        "padcross": (BATCH, SEQ_Q, D_MODEL),
    }
    expected: dict[str, torch.Tensor] = {}
    actual: dict[str, torch.Tensor] = {}
    for config in CONFIGS:
        ref = _reference(data, config)
        with torch.no_grad():
            for case, args in cases.items():
                expected[f"{config}.{case}.out"] = ref(*args)[0]
        for case in cases:
            key = f"{config}.{case}.out"
            value = got.get(key, shapes[case])
            if value is not None:
                actual[key] = value

    def ok(keys: list[str]) -> bool:
        return all(k in actual and compare(actual[k], expected[k], FLOAT64).ok for k in keys)

    def diagnosis(config: str) -> tuple[Mistake, ...] | None:
        mine = {k: v for k, v in actual.items() if k.startswith(f"{config}.")}

        def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
            return {
                f"{config}.{c}.out": _variant(data, config, mistakes, *a) for c, a in cases.items()
            }

        return diagnose(mine, variant, MISTAKES)

    checks = [
        CheckResult(
            "interface",
            True,
            f"W_K and W_V are nn.Linear({D_MODEL}, "
            f"num_kv_heads * {D_HEAD}), W_Q and W_O nn.Linear({D_MODEL}, "
            f"{D_MODEL})",
        )
    ]
    missing = [c for c in ("self", "cross") if f"gqa.{c}.out" not in actual]
    checks.append(
        CheckResult(
            "output_shape",
            False,
            f"GQA {missing[0]}-attention: the output {got.why(f'gqa.{missing[0]}.out')}",
        )
        if missing
        else CheckResult("output_shape", True, "outputs are (batch, seq_q, d_model)")
    )
    gqa_ok = ok(["gqa.self.out", "gqa.cross.out"])
    mask_keys = [f"gqa.{c}.out" for c in MASK_CASES]
    found = None if gqa_ok and ok(mask_keys) else diagnosis("gqa")
    main_found = tuple(m for m in found or () if m.group != "mask")
    mask_found = tuple(m for m in found or () if m.group == "mask")
    checks.append(_numbers(got, actual, expected, gqa_ok, main_found))
    checks.append(_masking(got, actual, expected, gqa_ok, mask_found))
    for config, check, label in (
        ("mqa", "multi_query", "num_kv_heads = 1 (MQA)"),
        ("mha", "multi_head", f"num_kv_heads = {NUM_HEADS} (MHA)"),
    ):
        keys = [f"{config}.{c}.out" for c in cases]
        if ok(keys):
            checks.append(CheckResult(check, True, f"{label} matches the reference"))
            continue
        note = got.note(f"{config}.construct") or next(
            (f"the output {got.why(k)}" for k in keys if k not in actual), None
        )
        if note:
            checks.append(
                CheckResult(
                    check,
                    False,
                    f"with {label}: {note}; derive the group "
                    "size from the arguments: num_heads // num_kv_heads",
                )
            )
            continue
        mine = diagnosis(config)
        checks.append(
            CheckResult(
                check,
                False,
                f"with {label} the output differs" + (f": {explain(mine)}" if mine else ""),
            )
        )
    tol = tolerance_for(torch.float32, device)
    value = got.get("gqa.f32.out", shapes["self"])
    if value is None:
        checks.append(
            CheckResult(
                "numbers_float32",
                False,
                f"float32 on {device}: the output {got.why('gqa.f32.out')}",
            )
        )
    else:
        comparison = compare(value, expected["gqa.self.out"], tol)
        checks.append(
            CheckResult(
                "numbers_float32",
                comparison.ok,
                f"float32 on {device} agrees"
                if comparison.ok
                else f"float32 on {device}: {comparison.describe()}"
                + ("" if gqa_ok else " (see numbers_float64)"),
            )
        )
    return checks


def _first_failure(
    actual: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], keys: list[str]
) -> tuple[str, str | None] | None:
    """The first of ``keys`` missing or off under FLOAT64, with the comparison (None: missing)."""
    for key in keys:
        if key not in actual:
            return key, None
        comparison = compare(actual[key], expected[key], FLOAT64)
        if not comparison.ok:
            return key, comparison.describe()
    return None


def _numbers(
    got: Outputs,
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    gqa_ok: bool,
    found: tuple[Mistake, ...],
) -> CheckResult:
    name = "numbers_float64"
    if gqa_ok:
        return CheckResult(name, True, "GQA (8 query heads, 2 K/V heads) matches the reference")
    failure = _first_failure(actual, expected, ["gqa.self.out", "gqa.cross.out"])
    key, detail = failure if failure else ("gqa.self.out", "")
    case = key.split(".")[1]
    if detail is None:
        return CheckResult(
            name, False, f"GQA {case}-attention: no output to compare: it {got.why(key)}"
        )
    where = f"GQA {case}-attention: output {detail}"
    if found:
        return CheckResult(name, False, f"{explain(found)} ({where})")
    return CheckResult(
        name,
        False,
        f"output differs from the reference ({where}): check the K/V head grouping, "
        "the scaling, keys versus values and W_O",
    )


def _masking(
    got: Outputs,
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    gqa_ok: bool,
    found: tuple[Mistake, ...],
) -> CheckResult:
    name = "masking"
    failure = _first_failure(actual, expected, [f"gqa.{c}.out" for c in MASK_CASES])
    if failure is None:
        return CheckResult(
            name,
            True,
            "a 0/1 causal mask and bool (batch, 1, 1, seq_k) padding masks, on self- and "
            "cross-attention, hide exactly the positions where mask == 0",
        )
    key, detail = failure
    what = MASK_CASES[key.split(".")[1]]
    if detail is None:
        return CheckResult(
            name,
            False,
            f"with {what} the output {got.why(key)}: accept 0/1 and bool masks that "
            "broadcast against the scores (batch, num_heads, seq_q, seq_k)",
        )
    where = f"with {what}: output {detail}"
    if found:
        return CheckResult(name, False, f"{explain(found)} ({where})")
    if not gqa_ok:
        return CheckResult(
            name, False, f"masked outputs differ too ({where}); fix numbers_float64 first"
        )
    return CheckResult(
        name,
        False,
        f"the mask was not applied as given ({where}): hide exactly the positions where "
        "mask == 0 (False), whatever the mask's pattern, and keep every other position",
    )
