"""Trusted checks for rlhf-2: the learner's dpo_loss against reference.py.

Summed log-probabilities of whole responses are large negative numbers (here -80 to
-200) whose policy-to-reference differences are small, so the loss is judged on
realistic inputs at the default beta and at beta = 0.5 (passed by keyword), in float64
and in float32, with gradients, and on log-ratio margins of +-1000 with beta = 1, where
``log(sigmoid(x))`` written by hand gives an infinite loss and NaN gradients.

On disagreement the loss and the rewards are diagnosed apart: ``_loss_variant`` and
``_rewards_variant`` recompute them with a common mistake applied (chosen and rejected
swapped, no reference model, beta on the loss or ignored, a sum over the batch, the sign
of the loss) and the one that matches is named.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "dpo_loss"
BATCH, LARGE_BATCH = 8, 4
DEFAULT_BETA, OTHER_BETA, LARGE_BETA = 0.1, 0.5, 1.0
LARGE_MARGINS = (1000.0, -1000.0, 2.0, -1000.0)  # log-ratio margins of the "large" case
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "rewards",
    "rewards_detached",
    "gradients",
    "numbers_float32",
    "stable_large_margins",
)
INTERFACE = judging.define(
    f"{ENTRY}(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, "
    "reference_rejected_logps, beta=0.1) returning (loss, chosen_rewards, rejected_rewards)"
)
LABELS = {"main": f"at the default beta = {DEFAULT_BETA:g}", "beta": f"at beta = {OTHER_BETA:g}"}
LOSS_MISTAKES = (
    Mistake(
        "swapped",
        "chosen and rejected are swapped: the logit is beta * ((pc - rc) - (pr - rr)), the "
        "chosen log-ratio minus the rejected one; as written the loss prefers the rejected answers",
        "sign",
    ),
    Mistake(
        "no_negation",
        "the loss has the wrong sign: it is -logsigmoid(...).mean(); minimising "
        "+logsigmoid pushes the policy away from the chosen answers",
        "sign",
    ),
    Mistake(
        "no_reference",
        "the reference model is left out: the logit is beta * ((pc - rc) - (pr - rr)), "
        "log-ratios of policy to reference, not beta * (pc - pr)",
        "reference",
    ),
    Mistake(
        "no_beta",
        "beta is missing from the logit: -logsigmoid(beta * margin), with beta scaling the "
        "log-ratio margin before the sigmoid",
        "beta",
    ),
    Mistake(
        "beta_on_loss",
        "beta multiplies the loss instead of the margin: -logsigmoid(beta * margin), not "
        "-beta * logsigmoid(margin)",
        "beta",
    ),
    Mistake(
        "beta_ignored",
        f"the beta argument is ignored (beta = {OTHER_BETA:g} gives what beta = "
        f"{DEFAULT_BETA:g} gives): use the beta parameter, not a constant",
        "beta",
    ),
    Mistake(
        "sum",
        f"the loss is summed over the batch; average it with .mean() (here the sum is "
        f"{BATCH}x too large)",
        "reduce",
    ),
)
REWARD_MISTAKES = (
    Mistake(
        "rewards_no_beta",
        "the rewards lack beta: chosen_rewards = beta * (pc - rc), rejected_rewards = "
        "beta * (pr - rr)",
        "beta",
    ),
    Mistake(
        "rewards_beta_ignored",
        f"the rewards ignore the beta argument (beta = {OTHER_BETA:g} gives what "
        f"{DEFAULT_BETA:g} gives)",
        "beta",
    ),
    Mistake(
        "rewards_no_reference",
        "the rewards leave out the reference model: they are beta * (policy - reference) "
        "log-probs, the implicit reward of DPO",
        "reference",
    ),
    Mistake(
        "rewards_inverted",
        "the rewards have the wrong sign: beta * (policy - reference), not reference - policy",
        "reference",
    ),
    Mistake(
        "rewards_swapped",
        "chosen_rewards and rejected_rewards come back in the wrong order: return "
        "(loss, chosen_rewards, rejected_rewards)",
        "order",
    ),
)
F32_LABELS = {
    "main.loss": "the loss",
    "main.chosen": "the chosen rewards",
    "main.rejected": "the rejected rewards",
}
LOG_SIGMOID = (
    "log(sigmoid(x)) by hand underflows: sigmoid(-1000) is exactly 0 in floating point, so "
    "the log is -inf, the loss inf and its gradient NaN; use F.logsigmoid(x) "
    "(or -F.softplus(-x)), which never forms sigmoid(x) first"
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    """Summed log-probs of responses 80 to 200 tokens' worth, the policy near the reference."""
    randn = judging.normal(seed)
    inputs: dict[str, torch.Tensor] = {}

    def case(name: str, beta: float, pc_shift: torch.Tensor, batch: int) -> None:
        rc = -80.0 - 40.0 * randn(batch).abs()
        rr = -80.0 - 40.0 * randn(batch).abs()
        pr = rr + 4.0 * randn(batch)
        inputs.update({f"{name}.rc": rc, f"{name}.rr": rr, f"{name}.pr": pr})
        inputs[f"{name}.pc"] = rc + (pr - rr) + pc_shift  # margin = pc_shift
        inputs[f"{name}.beta"] = torch.tensor(beta, dtype=torch.float64)

    case("main", math.nan, 5.0 * randn(BATCH), BATCH)
    for name in ("pc", "pr", "rc", "rr"):
        inputs[f"beta.{name}"] = inputs[f"main.{name}"].clone()
    inputs["beta.beta"] = torch.tensor(OTHER_BETA, dtype=torch.float64)
    case("large", LARGE_BETA, torch.tensor(LARGE_MARGINS, dtype=torch.float64), LARGE_BATCH)
    return inputs


def _args(data: dict[str, torch.Tensor], case: str) -> tuple[list[torch.Tensor], float]:
    beta = float(data[f"{case}.beta"])
    args = [data[f"{case}.{n}"] for n in ("pc", "pr", "rc", "rr")]
    return args, DEFAULT_BETA if math.isnan(beta) else beta


def _loss_variant(args: list[torch.Tensor], beta: float, mistakes: frozenset[str]) -> torch.Tensor:
    pc, pr, rc, rr = args
    if "beta_ignored" in mistakes:
        beta = DEFAULT_BETA
    margin = (pc - pr) if "no_reference" in mistakes else (pc - rc) - (pr - rr)
    if "swapped" in mistakes:
        margin = -margin
    scale = 1.0 if mistakes & {"no_beta", "beta_on_loss"} else beta
    per_pair = F.logsigmoid(scale * margin)
    if "beta_on_loss" in mistakes:
        per_pair = beta * per_pair
    if "no_negation" not in mistakes:
        per_pair = -per_pair
    return per_pair.sum() if "sum" in mistakes else per_pair.mean()


def _rewards_variant(
    args: list[torch.Tensor], beta: float, mistakes: frozenset[str]
) -> tuple[torch.Tensor, torch.Tensor]:
    pc, pr, rc, rr = args
    if "rewards_beta_ignored" in mistakes:
        beta = DEFAULT_BETA
    if "rewards_no_beta" in mistakes:
        beta = 1.0
    if "rewards_no_reference" in mistakes:
        chosen, rejected = pc, pr
    elif "rewards_inverted" in mistakes:
        chosen, rejected = rc - pc, rr - pr
    else:
        chosen, rejected = pc - rc, pr - rr
    if "rewards_swapped" in mistakes:
        chosen, rejected = rejected, chosen
    return beta * chosen, beta * rejected


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    expected: dict[str, torch.Tensor] = {}
    for case in (*LABELS, "large"):
        args, beta = _args(data, case)
        loss, chosen, rejected = reference.dpo_loss(*args, beta)
        expected.update({f"{case}.loss": loss, f"{case}.chosen": chosen})
        expected[f"{case}.rejected"] = rejected
    actual = got.like(expected)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        found = {}
        for case in LABELS:
            args, beta = _args(data, case)
            found[f"{case}.loss"] = _loss_variant(args, beta, mistakes)
            found[f"{case}.chosen"], found[f"{case}.rejected"] = _rewards_variant(
                args, beta, mistakes
            )
        return found

    losses = {f"{c}.loss": label for c, label in LABELS.items()}
    rewards = {
        f"{c}.{part}": label for c, label in LABELS.items() for part in ("chosen", "rejected")
    }
    loss_ok = judging.agree(actual, expected, losses)
    rewards_ok = judging.agree(actual, expected, rewards)

    def diagnosis(keys: dict[str, str], mistakes: tuple[Mistake, ...]) -> tuple[Mistake, ...]:
        found = judging.diagnose({k: actual[k] for k in keys if k in actual}, variant, mistakes)
        return found or ()

    interface_note = got.note("main") or ""
    return [
        CheckResult("interface", False, f"{ENTRY}: {interface_note}")
        if "expected a tuple" in interface_note
        else CheckResult("interface", True, f"{ENTRY} is defined"),
        _output_shape(got),
        judging.numbers_check(
            got,
            actual,
            expected,
            losses,
            found=() if loss_ok else diagnosis(losses, LOSS_MISTAKES),
            passed="float64 loss matches the reference at beta = 0.1 and 0.5",
            advice="check loss = -logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()",
        ),
        judging.numbers_check(
            got,
            actual,
            expected,
            rewards,
            name="rewards",
            found=() if rewards_ok else diagnosis(rewards, REWARD_MISTAKES),
            passed="chosen and rejected rewards match beta * (policy - reference)",
            advice="check chosen_rewards = beta * (pc - rc) and "
            "rejected_rewards = beta * (pr - rr)",
        ),
        _detached(got),
        _gradients(got, data, loss_ok),
        judging.float32_check(
            got,
            expected,
            F32_LABELS,
            device,
            numbers_ok=loss_ok and rewards_ok,
            prefix="f32.",
        ),
        _large(got, data, expected, loss_ok),
    ]


def _output_shape(got: Outputs) -> CheckResult:
    name = "output_shape"
    loss = got.get("main.loss")
    if loss is None:
        return CheckResult(name, False, f"the loss {got.why('main.loss')}")
    if loss.shape != ():
        return CheckResult(
            name,
            False,
            f"the loss has shape {tuple(loss.shape)}; it must be a scalar: "
            "average the per-pair losses with .mean()",
        )
    for part in ("chosen", "rejected"):
        value = got.get(f"main.{part}")
        if value is None or tuple(value.shape) != (BATCH,):
            shape = "nothing" if value is None else str(tuple(value.shape))
            return CheckResult(
                name,
                False,
                f"{part}_rewards has shape {shape}; expected ({BATCH},), one reward per pair",
            )
    return CheckResult(name, True, f"a scalar loss and ({BATCH},) rewards")


def _detached(got: Outputs) -> CheckResult:
    name = "rewards_detached"
    attached = []
    for part in ("chosen", "rejected"):
        flag = got.get(f"grad.{part}_attached", ())
        if flag is None:
            why = got.note("grad.main") or "returned nothing"
            return CheckResult(name, False, f"a call with gradients on failed: {why}")
        if bool(flag):
            attached.append(f"{part}_rewards")
    if attached:
        return CheckResult(
            name,
            False,
            f"{' and '.join(attached)} still carry gradient: the rewards are for logging and "
            "metrics, so return beta * (pc - rc) and beta * (pr - rr) with .detach()",
        )
    return CheckResult(name, True, "the rewards come back detached")


def _reference_gradients(data: dict[str, torch.Tensor], case: str) -> dict[str, torch.Tensor]:
    args, beta = _args(data, case)
    leaves = [a.clone().requires_grad_(i < 2) for i, a in enumerate(args)]
    loss, _, _ = reference.dpo_loss(*leaves, beta)
    loss.backward()
    return {f"grad.{case}.pc": leaves[0].grad, f"grad.{case}.pr": leaves[1].grad}


def _gradients(got: Outputs, data: dict[str, torch.Tensor], loss_ok: bool) -> CheckResult:
    name = "gradients"
    expected = _reference_gradients(data, "main")
    actual = got.like(expected)
    loss = got.get("main.loss")
    if loss is None:
        return CheckResult(name, False, f"no loss to back-propagate: it {got.why('main.loss')}")
    if len(actual) < len(expected) and loss.shape != ():
        return CheckResult(name, False, "backward() needs a scalar loss (see output_shape)")
    if len(actual) < len(expected):
        note = got.note("grad.main") or "returned nothing"
        return CheckResult(
            name,
            False,
            f"no gradient reaches the policy log-probs ({note}): the loss is cut from the "
            "graph (.detach(), .item(), torch.no_grad(), or a loss built from the detached "
            "rewards); compute it from the log-ratios and detach only the returned rewards",
        )
    failure = judging.first_mismatch(actual, expected, expected)
    if failure is None:
        return CheckResult(name, True, "gradients for pc and pr match the reference")
    key, comparison = failure
    which = "policy_chosen_logps" if key.endswith(".pc") else "policy_rejected_logps"
    detail = comparison.describe() if comparison is not None else "missing"
    if not loss_ok:
        return CheckResult(
            name,
            False,
            f"the gradient for {which} differs ({detail}) because the loss does "
            "(see numbers_float64)",
        )
    return CheckResult(
        name,
        False,
        f"the loss agrees but its gradient for {which} does not ({detail}): something "
        "in the graph is detached or edited in place",
    )


def _large(
    got: Outputs, data: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], loss_ok: bool
) -> CheckResult:
    name = "stable_large_margins"
    where = f"with log-ratio margins of +-1000 (beta = {LARGE_BETA:g})"
    for prefix, dtype, tol in (
        ("", "float64", judging.FLOAT64),
        ("f32.", "float32", judging.LARGE_INPUTS),
    ):
        key = f"{prefix}large.loss"
        loss = got.get(key, ())
        if loss is None:
            return CheckResult(name, False, f"{where} in {dtype} the loss {got.why(key)}")
        if not bool(torch.isfinite(loss)):
            return CheckResult(
                name, False, f"{where} the {dtype} loss is {float(loss):g}: {LOG_SIGMOID}"
            )
        comparison = judging.compare(loss, expected["large.loss"], tol)
        if not comparison.ok:
            if not loss_ok:
                return CheckResult(
                    name, False, f"{where} the {dtype} loss differs too (see numbers_float64)"
                )
            return CheckResult(
                name,
                False,
                f"{where} the {dtype} loss is finite but wrong ({float(loss):.6g}, expected "
                f"{float(expected['large.loss']):.6g}): clamping sigmoid(x) or the logits hides "
                "the underflow but changes the loss; use F.logsigmoid(x)",
            )
    expected_grads = _reference_gradients(data, "large")
    actual = got.like(expected_grads)
    if len(actual) < len(expected_grads):
        note = got.note("grad.large") or "returned nothing"
        return CheckResult(name, False, f"{where} backward() failed: {note}")
    for key, value in actual.items():
        if not bool(torch.isfinite(value).all()):
            return CheckResult(
                name, False, f"{where} the loss is finite but its gradient is NaN: {LOG_SIGMOID}"
            )
        if not judging.compare(value, expected_grads[key], judging.FLOAT64).ok:
            return CheckResult(
                name,
                False,
                f"{where} the gradients differ from the reference "
                f"({judging.compare(value, expected_grads[key], judging.FLOAT64).describe()}): "
                "use F.logsigmoid, whose gradient stays exact for large margins",
            )
    return CheckResult(
        name, True, f"{where} the loss and its gradients are finite and match, float64 and float32"
    )
