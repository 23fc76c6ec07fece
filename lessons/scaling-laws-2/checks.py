"""Trusted checks for scaling-laws-2: chinchilla_optimal and chinchilla_loss against
reference.py.

Budgets from 1e18 to 1e25 FLOPs (jittered per seed) and one 0-d budget go through
chinchilla_optimal with the paper's constants and with a refit (Besiroglu et al., 2024)
passed by keyword. Besides the numbers, two properties are judged from first principles
with the reference loss: ``6 N D`` is the budget, and a 1% step along the constraint in
either direction raises the loss. A wrong allocation is diagnosed by ``_variant``
(C = N D instead of 6 N D, swapped exponents, an inverted G, G without its root or
without alpha and beta, the constants ignored); a wrong loss by ``_loss_variant``.
"""

from __future__ import annotations

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "chinchilla_optimal"
DEFAULTS = (reference.E, reference.A, reference.B, reference.ALPHA, reference.BETA)
REFIT = (1.8172, 482.01, 2085.43, 0.3478, 0.3658)  # Besiroglu et al. (2024)
BUDGETS = (1e18, 1e20, 5.76e23, 1e25)  # 5.76e23: Chinchilla's own budget
SCALAR_BUDGET = 3.14e23  # GPT-3's
STEP = 1.01  # the step along the constraint that must not lower the loss
CHECKS = (
    "interface",
    "output_shape",
    "loss_numbers",
    "compute_constraint",
    "compute_optimal",
    "numbers_float64",
    "numbers_float32",
)
INTERFACE = judging.define(
    "chinchilla_optimal(compute, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28) returning "
    "(n_params, n_tokens), and chinchilla_loss(n_params, n_tokens, ...) with the same constants"
)
CASES = {  # chinchilla_optimal cases: their constants, and how messages name them
    "opt.default": (None, "the default constants"),
    "opt.scalar": (None, f"a 0-d budget of {SCALAR_BUDGET:.3g} FLOPs"),
    "opt.refit": (REFIT, "constants passed by keyword (E=1.8172, ..., beta=0.3658)"),
}
LOSS_CASES = {
    "loss.default": (None, "the default constants"),
    "loss.refit": (REFIT, "constants passed by keyword"),
}


_, _A, _B, _ALPHA, _BETA = DEFAULTS
_G = (_ALPHA * _A / (_BETA * _B)) ** (1 / (_ALPHA + _BETA))  # 1.3447
MISTAKES = (
    Mistake(
        "compute_nd",
        "the budget is taken as C = N D: training a dense transformer costs C = 6 N D FLOPs "
        "(2 per parameter per token forward, 4 backward), so use C / 6 in place of C",
        "compute",
    ),
    Mistake(
        "d_no_six",
        "D = C / N leaves out the 6: with C = 6 N D the tokens are D = C / (6 N)",
        "compute",
    ),
    Mistake(
        "exponents_swapped",
        "the exponents are swapped: N grows as (C / 6) ** (beta / (alpha + beta)) = ** "
        f"{_BETA / (_ALPHA + _BETA):.3f} and D as (C / 6) ** (alpha / (alpha + beta)) = ** "
        f"{_ALPHA / (_ALPHA + _BETA):.3f}: the faster N's term falls (alpha), the smaller "
        "N's share of the budget",
        "exponents",
    ),
    Mistake(
        "g_inverted",
        f"G is inverted: G = (alpha A / (beta B)) ** (1 / (alpha + beta)) = {_G:.4f} multiplies "
        "N and divides D; the code uses 1 / G",
        "g",
    ),
    Mistake(
        "g_no_root",
        "G lacks its root: G = (alpha A / (beta B)) ** (1 / (alpha + beta)), not "
        "alpha A / (beta B)",
        "g",
    ),
    Mistake(
        "g_no_exponents",
        "G leaves out alpha and beta: G = (alpha A / (beta B)) ** (1 / (alpha + beta)), from "
        "setting the derivatives alpha A / N**alpha and beta B / D**beta equal",
        "g",
    ),
    Mistake("g_missing", f"G is missing: N = G (C / 6) ** a with G = {_G:.4f}", "g"),
    Mistake(
        "constants_ignored",
        "the constants passed are ignored: with E, A, B, alpha, beta given by keyword the "
        "result is what the defaults give; use the arguments",
        "constants",
    ),
)
LOSS_MISTAKES = (
    Mistake(
        "loss_exponents_swapped",
        "the exponents are swapped: A / N**alpha + B / D**beta (alpha with N, beta with D)",
        "terms",
    ),
    Mistake(
        "loss_terms_swapped",
        "A and B are swapped: A / N**alpha is the parameters' term, B / D**beta the data's",
        "terms",
    ),
    Mistake("loss_no_e", "the irreducible loss E is missing: L = E + A / N**alpha + ...", "e"),
    Mistake(
        "loss_constants_ignored",
        "the constants passed are ignored: use the E, A, B, alpha, beta arguments",
        "constants",
    ),
)


def _constants(values: tuple[float, ...] | None) -> torch.Tensor:
    return torch.tensor(values if values else (float("nan"),) * 5, dtype=torch.float64)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    budgets = torch.tensor(BUDGETS, dtype=torch.float64) * torch.exp(0.2 * randn(len(BUDGETS)))
    inputs = {
        "opt.default.compute": budgets,
        "opt.scalar.compute": torch.tensor(SCALAR_BUDGET, dtype=torch.float64),
        "opt.refit.compute": budgets.clone(),
        "loss.default.n_params": 10.0 ** (9.0 + randn(3)),
    }
    inputs["loss.default.n_tokens"] = inputs["loss.default.n_params"] * 20 * torch.exp(randn(3))
    inputs["loss.refit.n_params"] = inputs["loss.default.n_params"].clone()
    inputs["loss.refit.n_tokens"] = inputs["loss.default.n_tokens"].clone()
    for case, (values, _) in (CASES | LOSS_CASES).items():
        inputs[f"{case}.constants"] = _constants(values)
    return inputs


def _variant(
    compute: torch.Tensor, constants: tuple[float, ...] | None, mistakes: frozenset[str]
) -> tuple[torch.Tensor, torch.Tensor]:
    if "constants_ignored" in mistakes or constants is None:
        constants = DEFAULTS
    _, A, B, alpha, beta = constants  # noqa: N806
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))  # noqa: N806
    if "g_inverted" in mistakes:
        G = 1 / G  # noqa: N806
    elif "g_no_root" in mistakes:
        G = alpha * A / (beta * B)  # noqa: N806
    elif "g_no_exponents" in mistakes:
        G = (A / B) ** (1 / (alpha + beta))  # noqa: N806
    elif "g_missing" in mistakes:
        G = 1.0  # noqa: N806
    a, b = beta / (alpha + beta), alpha / (alpha + beta)
    if "exponents_swapped" in mistakes:
        a, b = b, a
    budget = compute if "compute_nd" in mistakes else compute / 6
    n = G * budget**a
    d = compute / n if "d_no_six" in mistakes else budget**b / G
    return n, d


def _loss_variant(
    n: torch.Tensor, d: torch.Tensor, constants: tuple[float, ...] | None, mistakes: frozenset[str]
) -> torch.Tensor:
    if "loss_constants_ignored" in mistakes or constants is None:
        constants = DEFAULTS
    E, A, B, alpha, beta = constants  # noqa: N806
    if "loss_exponents_swapped" in mistakes:
        alpha, beta = beta, alpha
    if "loss_terms_swapped" in mistakes:
        A, B = B, A  # noqa: N806
    return (0.0 if "loss_no_e" in mistakes else E) + A / n**alpha + B / d**beta


def _kwargs(constants: tuple[float, ...] | None) -> dict[str, float]:
    return dict(zip(("E", "A", "B", "alpha", "beta"), constants or DEFAULTS, strict=True))


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    expected: dict[str, torch.Tensor] = {}
    for case, (constants, _) in CASES.items():
        n, d = reference.chinchilla_optimal(data[f"{case}.compute"], **_kwargs(constants))
        expected[f"{case}.n"], expected[f"{case}.d"] = n, d
    for case, (constants, _) in LOSS_CASES.items():
        args = (data[f"{case}.n_params"], data[f"{case}.n_tokens"])
        expected[f"{case}.loss"] = reference.chinchilla_loss(*args, **_kwargs(constants))
    actual = got.like(expected)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        found = {}
        for case, (constants, _) in CASES.items():
            n, d = _variant(data[f"{case}.compute"], constants, mistakes)
            found[f"{case}.n"], found[f"{case}.d"] = n, d
        for case, (constants, _) in LOSS_CASES.items():
            args = (data[f"{case}.n_params"], data[f"{case}.n_tokens"])
            found[f"{case}.loss"] = _loss_variant(*args, constants, mistakes)
        return found

    labels = {f"{c}.{x}": f"{what}, {x.upper()}" for c, (_, what) in CASES.items() for x in "nd"}
    loss_labels = {f"{c}.loss": what for c, (_, what) in LOSS_CASES.items()}
    numbers_ok = judging.agree(actual, expected, labels)
    loss_ok = judging.agree(actual, expected, loss_labels)
    found = None
    if not numbers_ok:
        subset = {k: v for k, v in actual.items() if k in labels}
        found = judging.diagnose(subset, variant, MISTAKES)
    loss_found = None
    if not loss_ok:
        subset = {k: v for k, v in actual.items() if k in loss_labels}
        loss_found = judging.diagnose(subset, variant, LOSS_MISTAKES)
    note = got.note("opt.default") or ""
    return [
        CheckResult("interface", False, f"{ENTRY}: {note}")
        if "expected a tuple" in note
        else CheckResult("interface", True, "chinchilla_optimal and chinchilla_loss are defined"),
        _output_shape(got, data),
        judging.numbers_check(
            got,
            actual,
            expected,
            loss_labels,
            name="loss_numbers",
            found=loss_found,
            passed="chinchilla_loss matches E + A / N**alpha + B / D**beta",
            advice="check L = E + A / N**alpha + B / D**beta with the constants passed",
        ),
        _constraint(got, data),
        _optimal(got, data, found),
        judging.numbers_check(
            got,
            actual,
            expected,
            labels,
            found=found,
            passed="N and D match the reference, for the default constants and others",
            advice="check N = G (C / 6) ** (beta / (alpha + beta)), D = (C / 6) ** (alpha / "
            "(alpha + beta)) / G, G = (alpha A / (beta B)) ** (1 / (alpha + beta))",
        ),
        judging.float32_check(
            got,
            expected,
            # a wrong loss is loss_numbers' to report, not float32's
            {"opt.default.n": "N", "opt.default.d": "D"}
            | ({"loss.default.loss": "the loss"} if loss_ok else {}),
            device,
            numbers_ok=numbers_ok,
            prefix="f32.",
        ),
    ]


def _output_shape(got: Outputs, data: dict[str, torch.Tensor]) -> CheckResult:
    problems = []
    for case, what in (("opt.default", "budgets of shape (4,)"), ("opt.scalar", "a 0-d budget")):
        shape = tuple(data[f"{case}.compute"].shape)
        for x, name in (("n", "n_params"), ("d", "n_tokens")):
            if got.get(f"{case}.{x}", shape) is None:
                problems.append(f"for {what} {name} {got.why(f'{case}.{x}')}")
    shape = tuple(data["loss.default.n_params"].shape)
    if got.get("loss.default.loss", shape) is None:
        problems.append(f"chinchilla_loss of shape (3,) inputs {got.why('loss.default.loss')}")
    if problems:  # the first: one mistake usually explains them all
        return CheckResult("output_shape", False, problems[0])
    return CheckResult("output_shape", True, "results have the shape of the budgets (0-d too)")


def _constraint(got: Outputs, data: dict[str, torch.Tensor]) -> CheckResult:
    name = "compute_constraint"
    for case, (_, what) in CASES.items():
        n, d = got.get(f"{case}.n"), got.get(f"{case}.d")
        compute = data[f"{case}.compute"]
        for x, value in (("n", n), ("d", d)):
            if value is None or value.shape != compute.shape:
                why = got.why(f"{case}.{x}") if value is None else "has the wrong shape"
                return CheckResult(name, False, f"with {what} {x.upper()} {why}")
        ratio = 6 * n * d / compute
        if bool(torch.allclose(ratio, torch.ones_like(ratio), rtol=1e-9, atol=0.0)):
            continue
        if bool(torch.allclose(ratio, torch.full_like(ratio, 6.0), rtol=1e-6, atol=0.0)):
            return CheckResult(
                name,
                False,
                "N * D equals the budget, so 6 N D is 6 times it: training costs C = 6 N D "
                "FLOPs (2 per parameter per token forward, 4 backward); use C / 6 wherever "
                "the budget enters (D = C / (6 N))",
            )
        worst = float(ratio.reshape(-1)[int((ratio - 1).abs().argmax())])
        return CheckResult(
            name,
            False,
            f"with {what} 6 N D is {worst:.4g} times the budget: D must be compute / (6 N)",
        )
    return CheckResult(name, True, "6 N D equals the budget")


def _along(
    n: torch.Tensor, compute: torch.Tensor, constants: tuple[float, ...] | None
) -> torch.Tensor:
    """The reference loss of N parameters trained on the tokens the budget leaves them."""
    return reference.chinchilla_loss(n, compute / (6 * n), **_kwargs(constants))


def _optimal(got: Outputs, data: dict[str, torch.Tensor], found: tuple | None) -> CheckResult:
    name = "compute_optimal"
    for case, (constants, what) in CASES.items():
        n, compute = got.get(f"{case}.n"), data[f"{case}.compute"]
        if n is None or n.shape != compute.shape:
            why = got.why(f"{case}.n") if n is None else "has the wrong shape"
            return CheckResult(name, False, f"with {what} N {why}")

        here, bigger, smaller = (
            _along(params, compute, constants) for params in (n, n * STEP, n / STEP)
        )
        for index in range(compute.numel()):
            at = float(compute.reshape(-1)[index])
            mine = float(n.reshape(-1)[index])
            for other, direction in ((bigger, "larger"), (smaller, "smaller")):
                delta = float(here.reshape(-1)[index] - other.reshape(-1)[index])
                if not delta < 0:
                    fewer = "fewer" if direction == "larger" else "more"
                    hint = (
                        judging.explain(found)
                        if found
                        else ("set dL/dN = 0 along D = C / (6 N) and solve for N")
                    )
                    return CheckResult(
                        name,
                        False,
                        f"with {what}, at C = {at:.3g} FLOPs a {direction} model (N x "
                        f"{STEP if direction == 'larger' else 1 / STEP:.3g}, trained on {fewer} "
                        f"tokens for the same compute) reaches a lower loss than N = {mine:.3g}: "
                        f"{hint}",
                    )
    return CheckResult(
        name, True, f"a step of {STEP - 1:.0%} in N either way along 6 N D = C raises the loss"
    )
