"""Trusted checks for state-space-models-2: the learner's selective_scan against reference.py.

Sizes: batch 2, d 6 channels, state size n 4, and L = 37 steps (not a power of two, not a
multiple of a chunk size of 8, 16 or 32), with D and with the default D=None, and L = 1.
A long case (L = 400, larger steps) takes the cumulative decay sum(delta * A) to -600 to
-10000:
the recurrence stays bounded there, but the one-shot parallel form
exp(S_t) * cumsum(exp(-S_s) * deltaB_u_s) overflows, while a chunked or masked-segment
form agrees. Disagreements are diagnosed by ``_variant`` (no discretisation, exp(A)
without delta, Euler's 1 + delta A, B without delta, delta through softplus again, the
state read before its update, B and C swapped, no skip term); otherwise the message names
the first time step that differs, which is where a chunked scan goes wrong.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "selective_scan"
BATCH, D_INNER, N_STATE, LENGTH, LONG = 2, 6, 4, 37, 400
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "optional_d",
    "long_sequence",
    "numbers_float32",
)
INTERFACE = judging.define(f"{ENTRY}(u, delta, A, B, C, D=None) returning y (batch, d, L)")
LABELS = {"main.out": f"L = {LENGTH} with D", "one.out": "L = 1 with D"}
MISTAKES = (
    Mistake(
        "no_discretisation",
        "A and B are used as they are: discretise first, deltaA = exp(delta * A) and "
        "deltaB_u = delta * B * u, then x_t = deltaA_t * x_{t-1} + deltaB_u_t",
        "discretise",
    ),
    Mistake(
        "exp_a_only",
        "deltaA = exp(A) leaves out the step size: use exp(delta * A), so each token's delta "
        "decides how much of the state it keeps",
        "discretise",
    ),
    Mistake(
        "euler_a",
        "deltaA = 1 + delta * A is Euler's step; this lesson, like Mamba, uses the zero-order "
        "hold deltaA = exp(delta * A)",
        "discretise",
    ),
    Mistake(
        "b_no_delta",
        "the input term lacks delta: deltaB_u = delta * B * u (zero-order hold on A, Euler on "
        "B, as in Mamba)",
        "b",
    ),
    Mistake(
        "delta_softplus",
        "delta goes through softplus again: the interface takes delta as the step size "
        "itself (already positive); use it as given",
        "delta",
    ),
    Mistake(
        "read_before_update",
        "y_t reads the state before the update (x_{t-1}): first x_t = deltaA_t * x_{t-1} + "
        "deltaB_u_t, then y_t = sum_n C_t * x_t",
        "order",
    ),
    Mistake(
        "b_c_swapped",
        "B and C are swapped: B writes the input into the state (deltaB_u = delta * B * u), "
        "C reads it out (y = sum_n C * x)",
        "bc",
    ),
    Mistake(
        "skip_d",
        "the skip term D * u is missing: add D[:, None] * u to y when D is given",
        "d",
    ),
)
PARALLEL = (
    "the recurrence itself stays bounded (every deltaA is below 1), so NaN or inf comes from "
    "a parallel form like exp(S_t) * cumsum(exp(-S_s) * deltaB_u_s) with S = cumsum(delta * A): "
    "exp(-S) overflows once the decay passes about 700 (88 in float32); run the recurrence "
    "step by step, or in chunks whose states are carried across, or with exp(S_t - S_s) "
    "formed only for s <= t"
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    inputs: dict[str, torch.Tensor] = {}

    def case(name: str, batch: int, length: int, with_d: bool, step: float = -1.0) -> None:
        inputs[f"{name}.u"] = randn(batch, D_INNER, length)
        inputs[f"{name}.delta"] = F.softplus(randn(batch, D_INNER, length) + step)
        inputs[f"{name}.A"] = -torch.exp(randn(D_INNER, N_STATE))
        inputs[f"{name}.B"] = randn(batch, N_STATE, length)
        inputs[f"{name}.C"] = randn(batch, N_STATE, length)
        if with_d:
            inputs[f"{name}.D"] = randn(D_INNER)

    case("main", BATCH, LENGTH, True)
    case("no_d", BATCH, LENGTH, False)
    case("one", BATCH, 1, True)
    case("long", 1, LONG, True, step=1.0)
    inputs["long.A"] = inputs["long.A"] - 1.0  # every channel decays by more than 1 per unit step
    return inputs


def _args(data: dict[str, torch.Tensor], case: str) -> list[torch.Tensor | None]:
    return [data.get(f"{case}.{n}") for n in ("u", "delta", "A", "B", "C", "D")]


def _variant(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,  # noqa: N803
    B: torch.Tensor,  # noqa: N803
    C: torch.Tensor,  # noqa: N803
    D: torch.Tensor | None,  # noqa: N803
    mistakes: frozenset[str],
) -> torch.Tensor:
    """The recurrence with the named mistakes applied."""
    if "delta_softplus" in mistakes:
        delta = F.softplus(delta)
    if "b_c_swapped" in mistakes:
        B, C = C, B  # noqa: N806
    step = delta.unsqueeze(-1)  # (batch, d, L, 1)
    if "no_discretisation" in mistakes:
        delta_a = A[:, None, :].expand_as(step * A[:, None, :])
    elif "exp_a_only" in mistakes:
        delta_a = torch.exp(A)[:, None, :].expand_as(step * A[:, None, :])
    elif "euler_a" in mistakes:
        delta_a = 1 + step * A[:, None, :]
    else:
        delta_a = torch.exp(step * A[:, None, :])
    b_u = u.unsqueeze(-1) * B.transpose(1, 2).unsqueeze(1)
    if not mistakes & {"no_discretisation", "b_no_delta"}:
        b_u = step * b_u
    x = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []
    for t in range(u.shape[-1]):
        before = x
        x = delta_a[:, :, t] * x + b_u[:, :, t]
        read = before if "read_before_update" in mistakes else x
        ys.append(torch.einsum("bdn,bn->bd", read, C[:, :, t]))
    y = torch.stack(ys, dim=-1)
    return y if D is None or "skip_d" in mistakes else y + D[:, None] * u


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    cases = ("main", "one", "no_d", "long")
    expected = {f"{c}.out": reference.selective_scan(*_args(data, c)) for c in cases}
    actual = got.like(expected)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {k: _variant(*_args(data, k.removesuffix(".out")), mistakes) for k in LABELS}

    numbers_ok = judging.agree(actual, expected, LABELS)
    found = None
    if not numbers_ok:
        found = judging.diagnose(
            {k: v for k, v in actual.items() if k in LABELS}, variant, MISTAKES
        )
    return [
        CheckResult("interface", True, f"{ENTRY} is defined"),
        _output_shape(got),
        judging.numbers_check(
            got,
            actual,
            expected,
            LABELS,
            found=found,
            passed=f"float64 output matches the recurrence for L = {LENGTH} and L = 1",
            advice=_first_step(actual.get("main.out"), expected["main.out"]),
        ),
        _optional_d(got, actual, expected, numbers_ok),
        _long(got, actual, expected, numbers_ok),
        judging.float32_check(
            got,
            expected,
            {"main.out": f"L = {LENGTH}"},
            device,
            numbers_ok=numbers_ok,
            prefix="f32.",
        ),
    ]


def _output_shape(got: Outputs) -> CheckResult:
    shape = (BATCH, D_INNER, LENGTH)
    if got.get("main.out", shape) is None:
        return CheckResult(
            "output_shape",
            False,
            f"for u of shape {judging.describe_shape(shape)} the output {got.why('main.out')}: "
            "y has the shape of u, (batch, d, L)",
        )
    return CheckResult("output_shape", True, "the output is (batch, d, L), like u")


def _first_step(actual: torch.Tensor | None, expected: torch.Tensor) -> str:
    """Advice for a disagreement no single mistake explains: where along time it starts."""
    advice = "check x_t = exp(delta_t * A) * x_{t-1} + delta_t * B_t * u_t and y_t = <C_t, x_t>"
    if actual is None:
        return advice
    per_step = [
        judging.compare(actual[..., t], expected[..., t], judging.FLOAT64).ok
        for t in range(expected.shape[-1])
    ]
    if False not in per_step or per_step[0] is False:
        return advice
    first = per_step.index(False)
    return (
        f"time steps 0-{first - 1} agree but step {first} of {LENGTH} does not: the state is "
        f"not carried correctly from there (L = {LENGTH} is no multiple of a chunk size: a "
        "chunked scan must carry the state into each chunk and handle the last, partial one)"
    )


def _optional_d(
    got: Outputs,
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    numbers_ok: bool,
) -> CheckResult:
    name = "optional_d"
    if "no_d.out" not in actual:
        return CheckResult(
            name,
            False,
            f"{ENTRY}(u, delta, A, B, C) without D: the output {got.why('no_d.out')}; D "
            "defaults to None, and then there is no skip term",
        )
    comparison = judging.compare(actual["no_d.out"], expected["no_d.out"], judging.FLOAT64)
    if comparison.ok:
        return CheckResult(name, True, "without D (D=None) the output is the scan alone")
    if not numbers_ok:
        return CheckResult(name, False, "without D the output differs too (see numbers_float64)")
    return CheckResult(
        name,
        False,
        f"with D the output agrees, but without D it does not ({comparison.describe()}): "
        "D=None means no skip term, y = <C, x> alone",
    )


def _long(
    got: Outputs,
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    numbers_ok: bool,
) -> CheckResult:
    name = "long_sequence"
    where = f"for L = {LONG} with large steps (the decay sum(delta * A) reaches -600 to -10000)"
    if "long.out" not in actual:
        return CheckResult(name, False, f"{where} the output {got.why('long.out')}")
    out = actual["long.out"]
    if not numbers_ok:
        return CheckResult(name, False, f"{where} the output differs too (see numbers_float64)")
    if not bool(torch.isfinite(out).all()):
        return CheckResult(name, False, f"{where} the output has NaN or inf: {PARALLEL}")
    comparison = judging.compare(out, expected["long.out"], judging.FLOAT64)
    if comparison.ok:
        return CheckResult(name, True, f"{where} the output is finite and matches")
    return CheckResult(
        name,
        False,
        f"{where} the output is finite but wrong ({comparison.describe()}) although L = "
        f"{LENGTH} agrees: something underflows or is clamped over long spans; {PARALLEL}",
    )
