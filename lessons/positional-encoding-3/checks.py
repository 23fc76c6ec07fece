"""Trusted checks for positional-encoding-3: apply_rope against reference.py.

Numbers in float64 on 3-D and 4-D inputs with the default positions, then explicit
positions (out of order, up to 120, as a decode with a cache passes them) and another
base (500000, as Llama 3 uses). On disagreement ``_variant`` rebuilds the rotation with
the mistakes people make when they move between the two RoPE layouts (pairs
interleaved as in GPT-J and Meta's original Llama code, or a table built for the other
layout), flip a sign, swap cos and sin, or get the frequencies wrong; a float64 output
that is right only to float32 precision had its angles computed in float32 (the
``.float()`` of the Hugging Face code) and gets a message of its own.

The relative-position check reads the property RoPE exists for straight off the
learner's outputs: one query vector and one key vector are rotated to many positions,
and the dot product of query at m and key at n must depend on m - n only.
"""

from __future__ import annotations

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results, Tolerance

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "apply_rope"
D, D_HEADS, BATCH, HEADS, SEQ = 16, 32, 2, 3, 8
POSITIONS = (3, 0, 17, 40, 41, 120)
OTHER_BASE = 500000.0
REL_SEQ, REL_STEP, REL_SHIFT = 12, 3, 1
# float64 outputs whose angles were computed in float32: angles up to 120 rad are off by
# ~1.5e-5 rad, times |x| of a few units; every real mistake is off by whole units.
FLOAT32_ANGLES = Tolerance(rtol=0.0, atol=2e-4)
# The relative-position property, on dot products of size ~d, in float64.
RELATIVE_ATOL = 1e-9
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "positions",
    "base",
    "relative_position",
    "numbers_float32",
)
INTERFACE = judging.define(f"{ENTRY}(x, positions=None, base=10000.0) returning the rotated x")
CASES = {  # name: (shape of x, positions or None, base or None)
    "plain": ((BATCH, SEQ, D), None, None),
    "heads": ((BATCH, HEADS, SEQ, D_HEADS), None, None),
    "positions": ((BATCH, HEADS, len(POSITIONS), D), POSITIONS, None),
    "base": ((BATCH, SEQ, D), None, OTHER_BASE),
}
LABELS = {
    "plain.out": f"x of shape {judging.describe_shape((BATCH, SEQ, D))}",
    "heads.out": f"x of shape {judging.describe_shape((BATCH, HEADS, SEQ, D_HEADS))}",
}
POSITION_LABELS = {"positions.out": f"positions {list(POSITIONS)}"}
BASE_LABELS = {"base.out": f"base={OTHER_BASE:g}"}
FLOAT32 = {"plain.out": "3-D x", "heads.out": "4-D x"}
HALF = D // 2
MISTAKES = (
    Mistake(
        "interleaved",
        "this rotates interleaved pairs (x[..., 0::2], x[..., 1::2]), the layout of GPT-J and "
        "of Meta's original Llama code; this lesson uses the rotate-half layout of the Hugging "
        f"Face Llama family: feature j pairs with feature j + d/2 (here j + {HALF}): x1, x2 = "
        "x[..., :d/2], x[..., d/2:], out = x * cos + cat(-x2, x1) * sin",
        "layout",
    ),
    Mistake(
        "interleaved_table",
        "cos and sin are built for the interleaved layout (each frequency repeated in place, "
        "repeat_interleave(2)), but the rotation is rotate-half, so a pair (j, j + d/2) gets "
        "two different angles: build the table as cat((angles, angles), dim=-1)",
        "layout",
    ),
    Mistake(
        "freq_per_column",
        "every column gets its own frequency (base ** (-j / d) for j in 0..d-1), so the pair "
        "(j, j + d/2) is not rotated by one angle: take freqs = base ** (-2i / d) for i in "
        "0..d/2-1 and repeat them, cat((angles, angles), dim=-1)",
        "layout",
    ),
    Mistake(
        "rotate_sign",
        "rotate_half has the wrong sign: it must be cat(-x2, x1), so that the pair becomes "
        "(x1 cos - x2 sin, x2 cos + x1 sin), a rotation by +angle",
        "sign",
    ),
    Mistake(
        "sin_cos_swapped",
        "cos and sin are swapped: out = x * cos + rotate_half(x) * sin",
        "trig",
    ),
    Mistake(
        "exponent_i",
        f"the frequencies are base ** (-i / d); they are base ** (-2i / d) for i in 0..d/2-1 "
        f"(torch.arange(0, d, 2) / d; here {HALF} frequencies from 1 down to "
        f"{10000.0 ** (-2 * (HALF - 1) / D):.3g})",
        "exponent",
    ),
    Mistake(
        "positions_from_1",
        "positions start at 1; by default row t has position t, from 0 (so row 0 is not "
        "rotated at all)",
        "positions",
    ),
    Mistake(
        "positions_ignored",
        "the positions argument is ignored: rotate row t by positions[t] * freq, not by its "
        f"index t (here positions {list(POSITIONS)}, as a decode with a cache passes them); "
        "only when positions is None do they default to torch.arange(seq)",
        "positions",
    ),
    Mistake(
        "base_ignored",
        f"the base argument is ignored (10000 is used): the frequencies are base ** (-2i / d) "
        f"with the base passed in (here {OTHER_BASE:g}, as Llama 3 uses)",
        "base",
    ),
)
FLOAT32_ANGLES_MISTAKE = Mistake(
    "float32_angles",
    "the float64 output is right only to float32 precision: the angles look computed in "
    "float32 (torch.arange(...).float(), as in the Hugging Face code); compute positions * "
    "freqs in x's dtype",
    "precision",
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    inputs: dict[str, torch.Tensor] = {}
    for name, (shape, positions, base) in CASES.items():
        inputs[f"{name}.x"] = randn(*shape)
        if positions is not None:
            inputs[f"{name}.positions"] = torch.tensor(positions, dtype=torch.int64)
        if base is not None:
            inputs[f"{name}.base"] = torch.tensor(base, dtype=torch.float64)
    for key in FLOAT32:
        case = key.removesuffix(".out")
        inputs[f"f32.{case}.x"] = inputs[f"{case}.x"].clone()
    for vector, offset in (("q", REL_SHIFT), ("k", 0)):
        inputs[f"rel.{vector}.x"] = randn(D).expand(REL_SEQ, D).contiguous()
        inputs[f"rel.{vector}.positions"] = torch.arange(REL_SEQ) * REL_STEP + offset
    return inputs


def _args(data: dict[str, torch.Tensor], case: str) -> tuple:
    positions = data.get(f"{case}.positions")
    base = data.get(f"{case}.base")
    return data[f"{case}.x"].double(), positions, 10000.0 if base is None else float(base)


def _variant(
    x: torch.Tensor, positions: torch.Tensor | None, base: float, mistakes: frozenset[str]
) -> torch.Tensor:
    """RoPE with the named mistakes applied."""
    seq, d = x.shape[-2], x.shape[-1]
    half = d // 2
    if positions is None or "positions_ignored" in mistakes:
        positions = torch.arange(seq)
    pos = positions.double() + (1.0 if "positions_from_1" in mistakes else 0.0)
    if "base_ignored" in mistakes:
        base = 10000.0
    if "freq_per_column" in mistakes:
        table = pos[:, None] * base ** (-torch.arange(d, dtype=torch.float64) / d)
    else:
        i = torch.arange(half, dtype=torch.float64)
        angles = pos[:, None] * base ** (-(i if "exponent_i" in mistakes else 2 * i) / d)
        if "interleaved" in mistakes:
            table = angles
        elif "interleaved_table" in mistakes:
            table = angles.repeat_interleave(2, dim=-1)
        else:
            table = torch.cat([angles, angles], dim=-1)
    cos, sin = table.cos(), table.sin()
    if "sin_cos_swapped" in mistakes:
        cos, sin = sin, cos
    sign = -1.0 if "rotate_sign" in mistakes else 1.0
    if "interleaved" in mistakes:
        x1, x2 = x[..., 0::2], x[..., 1::2]
        pairs = (x1 * cos - sign * x2 * sin, x2 * cos + sign * x1 * sin)
        return torch.stack(pairs, dim=-1).flatten(-2)
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + sign * torch.cat([-x2, x1], dim=-1) * sin


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    expected = {f"{c}.out": reference.apply_rope(*_args(data, c)) for c in CASES}
    actual = got.like(expected)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {f"{c}.out": _variant(*_args(data, c), mistakes) for c in CASES}

    main_ok = judging.agree(actual, expected, LABELS)
    found, precision = None, False
    if not judging.agree(actual, expected, expected):
        found = judging.diagnose(actual, variant, MISTAKES)
        if found is None:  # a mistake on top of float32 angles, or those angles alone
            found = judging.diagnose(actual, variant, MISTAKES, tol=FLOAT32_ANGLES)
            precision = found is not None
    if precision:
        found = (FLOAT32_ANGLES_MISTAKE, *(found or ()))

    def only(*groups: str) -> tuple[Mistake, ...]:
        return tuple(m for m in found or () if m.group in (*groups, "precision"))

    see = "see numbers_float64"
    return [
        CheckResult("interface", True, f"{ENTRY} is defined"),
        _output_shape(got, expected),
        judging.numbers_check(
            got,
            actual,
            expected,
            LABELS,
            found=only("layout", "sign", "trig", "exponent", "positions"),
            passed="float64 outputs with the default positions match the reference",
            advice="check the rotate-half pairs (j, j + d/2), cat(-x2, x1) and the "
            "frequencies base ** (-2i / d)",
        ),
        judging.numbers_check(
            got,
            actual,
            expected,
            POSITION_LABELS,
            found=only("positions"),
            passed=f"explicit positions {list(POSITIONS)} rotate each row by its own position",
            advice="rotate row t by positions[t] * freq" if main_ok else see,
            name="positions",
        ),
        judging.numbers_check(
            got,
            actual,
            expected,
            BASE_LABELS,
            found=only("base"),
            passed=f"base={OTHER_BASE:g} sets the frequencies",
            advice="the frequencies are base ** (-2i / d) with the base passed in"
            if main_ok
            else see,
            name="base",
        ),
        _relative(got, data, precision),
        _float32(got, expected, device, main_ok),
    ]


def _output_shape(got: Outputs, expected: dict[str, torch.Tensor]) -> CheckResult:
    for key, label in LABELS.items():
        shape = tuple(expected[key].shape)
        if got.get(key, shape) is None:
            return CheckResult(
                "output_shape", False, f"with {label} the output {got.why(key)} (x's shape)"
            )
    return CheckResult("output_shape", True, "the output has x's shape")


def _relative(got: Outputs, data: dict[str, torch.Tensor], precision: bool) -> CheckResult:
    name = "relative_position"
    shape = (REL_SEQ, D)
    rotated = {v: got.get(f"rel.{v}.out", shape) for v in ("q", "k")}
    for vector, value in rotated.items():
        if value is None:
            return CheckResult(
                name,
                False,
                f"rotating one {vector} vector to {REL_SEQ} positions: the output "
                f"{got.why(f'rel.{vector}.out')}",
            )
    dots = rotated["q"] @ rotated["k"].T  # (m, n): rotated q at position m, k at position n
    offsets = data["rel.q.positions"][:, None] - data["rel.k.positions"][None, :]
    spread = 0.0
    for offset in offsets.unique():
        same = dots[offsets == offset]
        spread = max(spread, float(same.max() - same.min()))
    size = max(1.0, float(dots.abs().max()))
    if not spread <= RELATIVE_ATOL * size and precision and spread <= FLOAT32_ANGLES.atol * size:
        return CheckResult(
            name,
            False,
            f"the dot product of q at m and k at n depends on m - n only to float32 precision "
            f"(it varies by up to {spread:.3g} among pairs with the same m - n): see "
            "numbers_float64",
        )
    if not spread <= RELATIVE_ATOL * size:
        return CheckResult(
            name,
            False,
            "the dot product of the rotated query at position m and the rotated key at "
            f"position n depends on more than m - n (it varies by up to {spread:.3g} among "
            "pairs with the same m - n): rotate each pair (x1_j, x2_j) by one angle, "
            "position * freq_j, with cos and sin of that same angle for q and k",
        )
    return CheckResult(
        name,
        True,
        "q at position m and k at position n: their dot product depends on m - n only",
    )


def _float32(
    got: Outputs, expected: dict[str, torch.Tensor], device: str, main_ok: bool
) -> CheckResult:
    for key in FLOAT32:
        dtype = got.dtype(f"f32.{key}")
        if dtype is not None and dtype != torch.float32:
            return CheckResult(
                "numbers_float32",
                False,
                f"for float32 x on {device} the output is {dtype}: build cos and sin in x's "
                "dtype (or cast them with .to(x.dtype)) so the output keeps x's dtype",
            )
    return judging.float32_check(got, expected, FLOAT32, device, numbers_ok=main_ok, prefix="f32.")
