"""Trusted checks for positional-encoding-2: the learner's encoding against reference.py.

The encoding has no inputs but its sizes, so the checks call it at even and odd
widths and compare in float64. A float32 result is compared with a tolerance for
angles up to ~128 rad, where float32 rounding of pos * freq alone gives ~1e-5.
On disagreement, ``_variant`` rebuilds the table with common mistakes applied
(sin/cos swapped, halves instead of interleaving, exponent j/d instead of 2i/d,
positions from 1, odd widths built for d_model + 1 and cut) and names the one
that matches. A float64 table that misses the float64 tolerance but meets the
float32 one was computed in float32 and cast; that gets a message of its own.
"""

from __future__ import annotations

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results, Tolerance

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "sinusoidal_positional_encoding"
SIZES = ((50, 64), (128, 16), (37, 33), (9, 5))
EVEN, ODD = (0, 1), (2, 3)
# float32 tables: sin/cos of angles up to 127 rad, where one float32 ulp is ~7.6e-6.
FLOAT32_TABLE = Tolerance(rtol=0.0, atol=1e-4)
CHECKS = ("interface", "output_shape", "numbers", "odd_d_model", "dtype")
INTERFACE = judging.define(f"{ENTRY}(seq_len, d_model) returning a (seq_len, d_model) tensor")
MISTAKES = (
    Mistake(
        "sin_cos_swapped",
        "sin and cos are swapped: even columns (2i) hold sin, odd columns (2i+1) hold cos",
        "order",
    ),
    Mistake(
        "halves",
        "sin and cos fill two halves [sin | cos]; they must interleave: "
        "PE[:, 0::2] = sin, PE[:, 1::2] = cos",
        "order",
    ),
    Mistake(
        "exponent_j",
        "the exponent uses the column index j (10000^(j/d_model)); columns 2i "
        "and 2i+1 share the frequency 1 / 10000^(2i/d_model)",
        "exponent",
    ),
    Mistake(
        "exponent_2j",
        "the exponent uses 2j for column j (10000^(2j/d_model)); columns 2i "
        "and 2i+1 share 10000^(2i/d_model), with 2i = arange(0, d_model, 2)",
        "exponent",
    ),
    Mistake(
        "positions_from_1",
        "positions start at 1; the first row is position 0 (sin 0 = 0, cos 0 = 1)",
        "positions",
    ),
    Mistake("odd_last_zero", "for odd d_model the last column (a sin column) is left at 0", "odd"),
    Mistake(
        "odd_padded",
        "for odd d_model the table is built for d_model + 1 and cut: the frequencies must use "
        "d_model, not d_model + 1 (1 / 10000^(2i/d_model) with the odd d_model itself)",
        "odd",
    ),
)
PRECISION = (
    "the table looks computed in float32 precision and returned as float64 "
    "(compute it in float64, or return float32)"
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    return {"sizes": torch.tensor(SIZES, dtype=torch.int64)}


def _variant(seq_len: int, d_model: int, mistakes: frozenset[str]) -> torch.Tensor:
    if "odd_padded" in mistakes and d_model % 2:
        wider = _variant(seq_len, d_model + 1, mistakes - {"odd_padded"})
        return wider[:, :d_model].contiguous()
    pos = torch.arange(seq_len, dtype=torch.float64).unsqueeze(1)
    if "positions_from_1" in mistakes:
        pos = pos + 1
    cols = torch.arange(d_model, dtype=torch.float64)
    if "halves" in mistakes:
        n_sin = (d_model + 1) // 2
        index = torch.where(cols < n_sin, cols, cols - n_sin)
        is_sin = cols < n_sin
        exponent = 2 * index
    else:
        is_sin = (cols % 2) == 0
        exponent = 2 * torch.div(cols, 2, rounding_mode="floor")
    if "exponent_j" in mistakes:
        exponent = cols
    elif "exponent_2j" in mistakes:
        exponent = 2 * cols
    angle = pos / torch.pow(10000.0, exponent / d_model)
    if "sin_cos_swapped" in mistakes:
        is_sin = ~is_sin
    table = torch.where(is_sin, torch.sin(angle), torch.cos(angle))
    if "odd_last_zero" in mistakes and d_model % 2:
        table[:, -1] = 0.0
    return table


def _tolerance(got: Outputs, key: str) -> Tolerance:
    return judging.FLOAT64 if got.dtype(key) == torch.float64 else FLOAT32_TABLE


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    actual: dict[str, torch.Tensor] = {}
    expected: dict[str, torch.Tensor] = {}
    for index, (seq_len, d_model) in enumerate(SIZES):
        key = f"pe.{index}"
        expected[key] = reference.sinusoidal_positional_encoding(seq_len, d_model)
        value = got.get(key, (seq_len, d_model))
        if value is not None:
            actual[key] = value

    def ok(indices: tuple[int, ...]) -> bool:
        return all(
            f"pe.{i}" in actual
            and judging.compare(
                actual[f"pe.{i}"], expected[f"pe.{i}"], _tolerance(got, f"pe.{i}")
            ).ok
            for i in indices
        )

    def float32_precision(indices: tuple[int, ...]) -> bool:
        """Every table is there and fits float32's tolerance; some float64 one misses float64's."""
        fits = all(
            f"pe.{i}" in actual
            and judging.compare(actual[f"pe.{i}"], expected[f"pe.{i}"], FLOAT32_TABLE).ok
            for i in indices
        )
        return fits and not ok(indices)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {f"pe.{i}": _variant(s, d, mistakes) for i, (s, d) in enumerate(SIZES)}

    even_ok, odd_ok = ok(EVEN), ok(ODD)
    found = None
    if not (even_ok and odd_ok):
        # float32 tables cannot match a variant to DIAGNOSIS precision; compare at their own.
        single = any(_tolerance(got, k) is FLOAT32_TABLE for k in actual)
        found = judging.diagnose(
            actual, variant, MISTAKES, tol=FLOAT32_TABLE if single else judging.DIAGNOSIS
        )
        if found is None and not single:
            # float64 tables computed in float32 and cast: diagnose at float32 precision too.
            found = judging.diagnose(actual, variant, MISTAKES, tol=FLOAT32_TABLE)
    checks = [CheckResult("interface", True, f"{ENTRY} is defined")]
    shape_problems = [
        f"({s}, {d}) {got.why(f'pe.{i}')}"
        for i, (s, d) in enumerate(SIZES)
        if i in EVEN and f"pe.{i}" not in actual
    ]
    checks.append(
        CheckResult(
            "output_shape", False, f"{ENTRY}(seq_len, d_model) for " + "; ".join(shape_problems)
        )
        if shape_problems
        else CheckResult("output_shape", True, "returns a (seq_len, d_model) tensor")
    )
    if even_ok:
        checks.append(CheckResult("numbers", True, "matches the reference for d_model = 64, 16"))
    elif not all(f"pe.{i}" in actual for i in EVEN):
        checks.append(CheckResult("numbers", False, "no table of the right shape to compare"))
    elif float32_precision(EVEN):
        bad = next(i for i in EVEN if not ok((i,)))
        detail = judging.compare(
            actual[f"pe.{bad}"], expected[f"pe.{bad}"], judging.FLOAT64
        ).describe()
        size = f"seq_len={SIZES[bad][0]}, d_model={SIZES[bad][1]}"
        checks.append(CheckResult("numbers", False, f"{PRECISION} ({size}: {detail})"))
    else:
        bad = next(
            i
            for i in EVEN
            if not judging.compare(
                actual[f"pe.{i}"], expected[f"pe.{i}"], _tolerance(got, f"pe.{i}")
            ).ok
        )
        detail = judging.compare(
            actual[f"pe.{bad}"], expected[f"pe.{bad}"], judging.FLOAT64
        ).describe()
        size = f"seq_len={SIZES[bad][0]}, d_model={SIZES[bad][1]}"
        advice = (
            judging.explain(found)
            if found
            else ("check PE[pos, 2i] = sin(pos / 10000^(2i/d_model)) and PE[pos, 2i+1] = cos(same)")
        )
        checks.append(CheckResult("numbers", False, f"{advice} ({size}: {detail})"))
    if odd_ok:
        checks.append(CheckResult("odd_d_model", True, "odd d_model (33, 5) handled"))
    else:
        missing = [i for i in ODD if f"pe.{i}" not in actual]
        if missing:
            s, d = SIZES[missing[0]]
            message = (
                f"with d_model = {d} the call {got.why(f'pe.{missing[0]}')}: for odd d_model "
                f"there are {(d + 1) // 2} sin columns and {d // 2} cos columns (use "
                "div_term[: d_model // 2] for the cos)"
            )
        elif found:
            message = judging.explain(found)
        elif float32_precision(ODD):
            message = f"with odd d_model {PRECISION}"
        elif not even_ok:
            message = "odd d_model gives wrong numbers, and so does even d_model: see numbers"
        else:
            message = "odd d_model gives wrong numbers; the last column is a sin column"
        checks.append(CheckResult("odd_d_model", False, message))
    floating = [got.dtype(f"pe.{i}") for i in range(len(SIZES)) if got.has(f"pe.{i}")]
    if not floating:
        checks.append(CheckResult("dtype", False, "no table came back"))
    elif all(dt in (torch.float32, torch.float64) for dt in floating):
        checks.append(CheckResult("dtype", True, "returns float32 or float64"))
    else:
        checks.append(
            CheckResult("dtype", False, f"returns {floating[0]}; use float32 (or float64)")
        )
    return checks
