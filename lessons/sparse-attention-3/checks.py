"""Trusted checks for sparse-attention-3: sliding-window attention with global tokens.

Numbers: float64 against dense attention with the equivalent mask (query i sees key j
when |i - j| <= window, or when i or j is global; ``judging.attention`` with that mask),
at seq 100 for a window of 6 (edges included), a window wider than the sequence (dense
attention), a window of 0 with a global first token, and three global tokens given out
of order; then float32 on the device and with q and k scaled by 30. On disagreement
``_variant`` recomputes the dense reference with common mistakes (the window off by one,
halved or one-sided, global rows or columns missing, global keys counted twice where the
window reaches them, zero-padded edges left in the softmax, no scaling) and names the
match.

Memory and work: phase "memory" repeats the main cases, then makes one long call on the
CPU (seq 8192, d_head 32, window 8, two global tokens). The runner measures each
worker's peak RSS from outside; the memory worker may use at most 128 MiB more than the
main one. A full 8192 x 8192 float32 score matrix is 256 MiB (and its softmax another),
a banded implementation needs a few MiB per tile (an unfolded copy of the windows'
keys and values, 17 x 8192 x 32 floats each, about 54 MiB in all). The probe also counts
the FLOPs of the call's matrix products: computing every score and masking afterwards
costs as much as dense attention (8.6 GFLOP); the limit is a quarter of that, where
query blocks up to ~2,000 rows against their window's keys stay far below.
"""

from __future__ import annotations

import math

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main", "memory")
# Phases whose peak memory matters; tests/lesson_harness.py runs these in child processes.
SUBPROCESS_PHASES = ("main", "memory")
ENTRY = "sliding_window_attention"
BATCH, HEADS, SEQ, D_HEAD = 2, 2, 100, 16
WINDOW = 6
CASES = {  # name: (window, global tokens or None), float64 on the CPU
    "local": (WINDOW, None),
    "wide": (150, None),
    "zero": (0, (0,)),
    "glob": (WINDOW, (37, 0, 99)),
}
F32_CASES = {"f32local": "local", "f32glob": "glob", "f32large": "local"}  # float32: as
LARGE_SCALE = 30.0
MEM_SEQ, MEM_D_HEAD, MEM_WINDOW, MEM_GLOBAL = 8192, 32, 8, (0, 4000)
MEM_ROWS = (*range(64), *range(3968, 4032), *range(MEM_SEQ - 64, MEM_SEQ))
MIB = 1 << 20
MEMORY_ALLOWANCE_BYTES = 128 * MIB
FULL_MATRIX_BYTES = MEM_SEQ * MEM_SEQ * 4
DENSE_FLOPS = 2 * 2 * MEM_SEQ * MEM_SEQ * MEM_D_HEAD  # q k^T and weights @ v
FLOPS_ALLOWED = DENSE_FLOPS // 4
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "global_tokens",
    "numbers_float32",
    "finite_large_inputs",
    "memory",
    "sparse_compute",
)
INTERFACE = judging.define(f"{ENTRY}(q, k, v, window, global_tokens=None) returning the output")
LABELS = {
    "local.out": f"window {WINDOW} at seq {SEQ}",
    "wide.out": f"window 150 >= seq {SEQ} (dense attention)",
}
GLOBAL_LABELS = {
    "zero.out": "window 0 with global token 0",
    "glob.out": f"window {WINDOW} with global tokens tensor([37, 0, 99])",
}
MISTAKES = (
    Mistake(
        "window_exclusive",
        "the window is off by one: keys at distance exactly window are left out; query i "
        "sees keys i - window .. i + window (|i - j| <= window)",
        "window",
    ),
    Mistake(
        "window_half",
        "the window is halved (window // 2 on each side, Longformer's attention_window "
        "convention); here window is one-sided: keys i - window .. i + window",
        "window",
    ),
    Mistake(
        "window_causal",
        "the window only looks back (keys i - window .. i); Longformer's window is "
        "symmetric: keys i - window .. i + window",
        "window",
    ),
    Mistake(
        "edge_zero_pad",
        "near the ends of the sequence the window's missing keys count as zero vectors "
        "(score 0) in the softmax: mask positions outside 0..seq-1 with -inf, or slice the "
        "keys to max(0, i - window) .. min(seq, i + window + 1)",
        "edge",
    ),
    Mistake(
        "no_scale",
        f"scores are not scaled: multiply q @ k^T by 1 / sqrt(d_head) = 1/{math.sqrt(D_HEAD):g}",
        "scale",
    ),
    Mistake(
        "global_ignored",
        "global_tokens has no effect: a global token attends to every position and every "
        "position attends to it",
        "global",
    ),
    Mistake(
        "global_no_rows",
        "global tokens do not attend to every position: a global query's row must cover all "
        "keys, not just its window",
        "global",
    ),
    Mistake(
        "global_no_cols",
        "queries outside the window of a global token do not attend to it: every query must "
        "also see the global keys",
        "global",
    ),
    Mistake(
        "global_double",
        "a global key inside a query's window is counted twice (once in the window, once "
        "among the global keys): hide the window's copy, so each key enters the softmax once",
        "global",
    ),
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    inputs = {f"x.{n}": randn(BATCH, HEADS, SEQ, D_HEAD) for n in ("q", "k", "v")}
    for name, (window, tokens) in CASES.items():
        inputs[f"{name}.window"] = torch.tensor(window)
        if tokens is not None:
            inputs[f"{name}.global"] = torch.tensor(tokens, dtype=torch.int64)
    for name, like in F32_CASES.items():
        for key in ("window", "global"):
            if f"{like}.{key}" in inputs:
                inputs[f"{name}.{key}"] = inputs[f"{like}.{key}"].clone()
    inputs["f32large.scale"] = torch.tensor(LARGE_SCALE, dtype=torch.float64)
    if phase == "memory":
        inputs["mem.shape"] = torch.tensor((MEM_SEQ, MEM_D_HEAD))
        inputs["mem.seed"] = torch.tensor(seed % (1 << 62))
        inputs["mem.window"] = torch.tensor(MEM_WINDOW)
        inputs["mem.global"] = torch.tensor(MEM_GLOBAL, dtype=torch.int64)
        inputs["mem.rows"] = torch.tensor(MEM_ROWS, dtype=torch.int64)
    return inputs


def _allowed(seq: int, window: int, tokens: tuple[int, ...] | None) -> torch.Tensor:
    """The dense mask equivalent to the pattern: True where query i may see key j."""
    i, j = torch.arange(seq)[:, None], torch.arange(seq)[None, :]
    allowed = (i - j).abs() <= window
    if tokens:
        is_global = torch.zeros(seq, dtype=torch.bool)
        is_global[list(tokens)] = True
        allowed = allowed | is_global[:, None] | is_global[None, :]
    return allowed


def _variant(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    window: int,
    tokens: tuple[int, ...] | None,
    mistakes: frozenset[str],
) -> torch.Tensor:
    """Dense attention under the pattern's mask, with the named mistakes applied."""
    seq = q.shape[-2]
    i, j = torch.arange(seq)[:, None], torch.arange(seq)[None, :]
    reach = window // 2 if "window_half" in mistakes else window
    if "window_exclusive" in mistakes:
        band = (i - j).abs() < reach
    elif "window_causal" in mistakes:
        band = (j <= i) & (i - j <= reach)
    else:
        band = (i - j).abs() <= reach
    is_global = torch.zeros(seq, dtype=torch.bool)
    if tokens and "global_ignored" not in mistakes:
        is_global[list(tokens)] = True
    rows, cols = is_global[:, None], is_global[None, :]
    allowed = band | (cols if "global_no_cols" not in mistakes else False)
    allowed = allowed | (rows if "global_no_rows" not in mistakes else False)
    scores = q @ k.transpose(-2, -1) / judging.scale_of(q, k, v, mistakes)
    scores = scores.masked_fill(~allowed, -math.inf)
    if "global_double" in mistakes:
        scores = scores + torch.where(band & cols & ~rows, math.log(2.0), 0.0)
    # Zero-padded keys beyond either end: score 0, value 0, in every window row.
    missing = (2 * reach + 1) - band.sum(-1, keepdim=True)
    padded = torch.where(
        (missing > 0) & ~rows & torch.tensor("edge_zero_pad" in mistakes),
        torch.log(missing.clamp(min=1).to(q.dtype)),
        torch.tensor(-math.inf, dtype=q.dtype),
    ).expand(*scores.shape[:-1], 1)
    weights = torch.softmax(torch.cat([scores, padded], -1), -1)
    return weights[..., :seq] @ v


def _expected(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, case: tuple) -> torch.Tensor:
    mask = _allowed(q.shape[-2], *case)
    return judging.attention(q, k, v, mask)[0]


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    q, k, v = (data[f"x.{n}"] for n in ("q", "k", "v"))
    expected = {f"{c}.out": _expected(q, k, v, case) for c, case in CASES.items()}
    for name, like in F32_CASES.items():
        scale = LARGE_SCALE if name == "f32large" else 1.0
        expected[f"{name}.out"] = _expected(q * scale, k * scale, v, CASES[like])
    actual = got.like({f"{c}.out": expected[f"{c}.out"] for c in CASES})

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {f"{c}.out": _variant(q, k, v, *case, mistakes) for c, case in CASES.items()}

    local_ok = judging.agree(actual, expected, LABELS)
    global_ok = judging.agree(actual, expected, GLOBAL_LABELS)
    # The window's mistakes are diagnosed on the cases without global tokens alone (how a
    # mistaken window meets a global token varies with the code); global ones on all.
    local_found = global_found = None
    if not local_ok:
        local_found = judging.diagnose(
            {key: value for key, value in actual.items() if key in LABELS},
            variant,
            [m for m in MISTAKES if m.group != "global"],
        )
    if not global_ok:
        found = judging.diagnose(actual, variant, MISTAKES)
        global_found = tuple(m for m in found or () if m.group == "global")
    f32 = {"f32local.out": LABELS["local.out"]}
    if global_ok:
        f32["f32glob.out"] = GLOBAL_LABELS["glob.out"]
    return [
        CheckResult("interface", True, f"{ENTRY} is defined"),
        _output_shape(got),
        judging.numbers_check(
            got,
            actual,
            expected,
            LABELS,
            found=local_found,
            passed=f"without global tokens the output matches dense attention under the "
            f"window's mask (window {WINDOW}, and wider than the sequence)",
            advice="query i must see exactly the keys i - window .. i + window that exist",
        ),
        _global(got, actual, expected, global_found, local_ok),
        judging.float32_check(
            got,
            expected,
            f32,
            device,
            numbers_ok=local_ok,
            missing_hint="tensors made inside the function (masks, index ranges) must follow "
            "the input: device=q.device",
        ),
        judging.finite_check(
            got,
            "f32large.out",
            (BATCH, HEADS, SEQ, D_HEAD),
            scaled=f"q and k scaled by {LARGE_SCALE:g}",
            expected=expected["f32large.out"],
            nan_advice="fill hidden scores with -inf and let torch.softmax subtract each row's "
            "max (a hand-written exp overflows)",
        ),
        *_long_call(inputs, results, device),
    ]


def _output_shape(got: Outputs) -> CheckResult:
    want = (BATCH, HEADS, SEQ, D_HEAD)
    for case, (window, tokens) in CASES.items():
        if got.get(f"{case}.out", want) is None:
            call = f"window={window}" + (f", global_tokens={list(tokens)}" if tokens else "")
            return CheckResult(
                "output_shape",
                False,
                f"{ENTRY}(q, k, v, {call}) on {judging.describe_shape(want)} inputs: the "
                f"output {got.why(case + '.out')}",
            )
    return CheckResult("output_shape", True, "output has the shape of q")


def _global(
    got: Outputs,
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    found: tuple[Mistake, ...] | None,
    local_ok: bool,
) -> CheckResult:
    name = "global_tokens"
    failure = judging.first_mismatch(actual, expected, GLOBAL_LABELS)
    if failure is None:
        return CheckResult(
            name,
            True,
            "global tokens attend to every position and every position attends to them, "
            "each key counted once",
        )
    key, comparison = failure
    label = GLOBAL_LABELS[key]
    if comparison is None:
        return CheckResult(name, False, f"{label}: no output to compare: it {got.why(key)}")
    place = f"{label}: output {comparison.describe()}"
    if found:
        return CheckResult(name, False, f"{judging.explain(found)} ({place})")
    if not local_ok:
        return CheckResult(
            name, False, f"outputs differ here too ({place}); fix numbers_float64 first"
        )
    return CheckResult(
        name,
        False,
        f"the window alone is right but global tokens are not ({place}): a global token's row "
        "covers every key, every row also sees the global keys, and each key counts once",
    )


def _long_call(inputs: Inputs, results: Results, device: str) -> tuple[CheckResult, CheckResult]:
    """The memory and sparse_compute checks, from the memory phase's long call."""
    base, big = results.get("main"), results.get("memory")
    if big is None or big.error:
        why = "it did not run" if big is None else big.error
        return (
            CheckResult("memory", False, f"the long call (seq {MEM_SEQ}) did not finish: {why}"),
            judging.skipped("sparse_compute", "the long call did not finish (see memory)"),
        )
    got = Outputs(big)
    rows = len(MEM_ROWS)
    out = got.get("mem.out", (1, 1, rows, MEM_D_HEAD))
    if out is None:
        why = got.why("mem.out")
        if "has shape" in why:
            why = f"has the wrong shape ({why.split('; ')[0].removeprefix('has shape ')})"
        return (
            CheckResult("memory", False, f"the long call (seq {MEM_SEQ}): the output {why}"),
            judging.skipped("sparse_compute", "the long call returned no output (see memory)"),
        )
    expected = _long_expected(inputs["memory"])
    comparison = judging.compare(out, expected, judging.tolerance_for(torch.float32, "cpu"))
    if not comparison.ok:
        return (
            CheckResult(
                "memory",
                False,
                f"the long call (seq {MEM_SEQ}, window {MEM_WINDOW}, global tokens "
                f"{list(MEM_GLOBAL)}) gives wrong numbers ({comparison.describe()})",
            ),
            judging.skipped("sparse_compute", "the long call's output is wrong (see memory)"),
        )
    return _memory(base, big), _compute(got)


def _long_expected(data: dict[str, torch.Tensor]) -> torch.Tensor:
    """The reference output of the long call at ``MEM_ROWS``: dense rows under the mask."""
    generator = torch.Generator().manual_seed(int(data["mem.seed"]))
    q, k, v = (
        torch.randn(1, 1, MEM_SEQ, MEM_D_HEAD, generator=generator).double() for _ in range(3)
    )
    rows = torch.tensor(MEM_ROWS)
    mask = _allowed(MEM_SEQ, MEM_WINDOW, MEM_GLOBAL)[rows]
    return judging.attention(q[..., rows, :], k, v, mask)[0]


def _memory(base: judging.PhaseResult | None, big: judging.PhaseResult) -> CheckResult:
    name = "memory"
    if base is None or base.error:
        return CheckResult(name, False, "the main phase did not finish, so memory cannot be judged")
    # The kernel's figures from outside each worker; both ran the same short cases first.
    base_peak, big_peak = int(base.peak_rss_bytes), int(big.peak_rss_bytes)
    if base_peak <= 0 or big_peak <= 0:
        return CheckResult(name, False, "peak RSS was not measured, so memory cannot be judged")
    extra = big_peak - base_peak
    if extra > MEMORY_ALLOWANCE_BYTES:
        return CheckResult(
            name,
            False,
            f"seq {MEM_SEQ}, window {MEM_WINDOW}: peak RSS grew by {extra / MIB:.0f} MiB over "
            f"the short calls alone (allowed {MEMORY_ALLOWANCE_BYTES // MIB} MiB; the full "
            f"score matrix is {FULL_MATRIX_BYTES // MIB} MiB): a seq x seq matrix is being "
            "built; compute each block of queries against the keys its window reaches "
            "(and the global keys) only",
        )
    return CheckResult(
        name,
        True,
        f"seq {MEM_SEQ}: peak RSS grew by {max(extra, 0) / MIB:.0f} MiB over the short calls "
        f"(allowed {MEMORY_ALLOWANCE_BYTES // MIB} MiB)",
    )


def _compute(got: Outputs) -> CheckResult:
    name = "sparse_compute"
    flops = got.get("mem.flops", ())
    if flops is None:
        return CheckResult(name, False, f"the FLOP count of the long call {got.why('mem.flops')}")
    used = float(flops)
    share = f"{used / 1e9:.2f} GFLOP of matrix products, {used / DENSE_FLOPS:.0%} of dense"
    if used > FLOPS_ALLOWED:
        return CheckResult(
            name,
            False,
            f"seq {MEM_SEQ}, window {MEM_WINDOW}: {share} attention's {DENSE_FLOPS / 1e9:.1f} "
            f"(allowed {FLOPS_ALLOWED / DENSE_FLOPS:.0%}): scores are computed for keys outside "
            "the window and masked afterwards; score each block of queries against its own "
            "keys only (block start - window .. block end + window) and the global keys",
        )
    return CheckResult(
        name, True, f"seq {MEM_SEQ}, window {MEM_WINDOW}: {share} attention (allowed 25%)"
    )
