"""Checks every attention-style lesson runs, as functions of data: the judge's opening
(``judged``), skipped checks, numbers against the reference, float32 agreement, large
inputs, masking.

Each function returns one ``CheckResult`` (the opening: the whole list when nothing else
can be judged) with the messages learners of every lesson read alike; a lesson passes
in its own labels ("3-D inputs", "GQA self-attention"), keys, advice and diagnosis.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import torch

from tracker.validation.judging.core import (
    DETERMINISM,
    FLOAT64,
    LARGE_INPUTS,
    Comparison,
    Mistake,
    Outputs,
    Tolerance,
    compare,
    explain,
    first_mismatch,
    tolerance_for,
)
from tracker.validation.lesson_api import CheckResult, PhaseResult

DID_NOT_RUN = "the submission did not run to the end (see the error)"
INTERFACE_FAILED = "the interface check failed"


def skipped(name: str, reason: str) -> CheckResult:
    """A check that never ran: not passed, and ``reason`` says why."""
    return CheckResult(name, False, reason, skipped=True)


def skip_all(names: Sequence[str], reason: str) -> list[CheckResult]:
    return [skipped(name, reason) for name in names]


def define(signature: str) -> Callable[[str], str]:
    """An ``interface`` message for a missing or unusable entry point: the probe's note,
    then what to write (``define("f(q, k, v) returning the output")``)."""
    return lambda note: f"{note}: define {signature}"


def build_failed(call: str, hints: Mapping[str, str] | None = None) -> Callable[[str], str]:
    """The ``interface`` message of a module lesson whose probe could not build the learner's
    class and load its weights: "could not build {call}: {note}", then the hint of the first
    of ``hints`` (note text -> hint) found in the note."""

    def message(note: str) -> str:
        hint = next((h for key, h in (hints or {}).items() if key in note), "")
        return f"could not build {call}: {note}{hint}"

    return message


def opening(
    results: Mapping[str, PhaseResult],
    checks: Sequence[str],
    interface: Callable[[str], str],
    *,
    construct: Sequence[str] = ("construct",),
    phase: str = "main",
) -> tuple[Outputs, list[CheckResult] | None]:
    """The first lines of every ``judge``: the phase's outputs, and the verdict when nothing
    more can be judged (else None).

    A phase that did not run to the end (syntax error, timeout, crash) skips every check:
    the runner reports its error once, in the verdict's ``error``. A ``construct`` note
    (the probe found no entry point, or could not build or load it) fails the first
    check, ``checks[0]`` (the interface), with ``interface(note)`` and skips the rest.
    """
    got = Outputs(results.get(phase))
    if got.error:
        return got, skip_all(checks, DID_NOT_RUN)
    note = next((got.note(key) for key in construct if got.note(key)), None)
    if note:
        return got, [
            CheckResult(checks[0], False, interface(note)),
            *skip_all(checks[1:], INTERFACE_FAILED),
        ]
    return got, None


Inputs = dict[str, dict[str, torch.Tensor]]  # phase -> name -> tensor, made by make_inputs
Results = dict[str, PhaseResult]  # phase -> what its worker run handed back
Body = Callable[[Outputs, Inputs, Results, str], list[CheckResult]]


def judged(
    checks: Sequence[str],
    interface: Callable[[str], str],
    *,
    construct: Sequence[str] = ("construct",),
    phase: str = "main",
) -> Callable[[Body], Callable[[Inputs, Results, str], list[CheckResult]]]:
    """Decorate a lesson's judge body ``(got, inputs, results, device) -> checks`` into the
    ``judge(inputs, results, device)`` the runner calls, with ``opening`` in front: the
    body only runs when the phase ran and the interface could be built.

        @judged(CHECKS, define("f(x) returning the output"))
        def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[...]:
    """

    def decorate(body: Body) -> Callable[[Inputs, Results, str], list[CheckResult]]:
        @functools.wraps(body)
        def judge(inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
            got, early = opening(results, checks, interface, construct=construct, phase=phase)
            return early if early is not None else body(got, inputs, results, device)

        return judge

    return decorate


def _against_reference(
    name: str,
    got: Outputs,
    actual: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    labels: Mapping[str, str],
    tol: Tolerance,
    *,
    passed: str,
    found: Sequence[Mistake] | None,
    missing: Callable[[str, str, str], str],
    where: Callable[[str, str, Comparison], str],
    unexplained: Callable[[str], str],
) -> CheckResult:
    """The shape of every comparison check: the first of ``labels`` that is missing
    (``missing(label, noun, why)``) or off (``where(label, noun, comparison)``) explains
    the failure with the diagnosed mistake, else with ``unexplained(where)``."""
    failure = first_mismatch(actual, expected, labels, tol)
    if failure is None:
        return CheckResult(name, True, passed)
    key, comparison = failure
    noun = "weights" if key.endswith("weights") else "output"
    if comparison is None:
        return CheckResult(name, False, missing(labels[key], noun, got.why(key)))
    place = where(labels[key], noun, comparison)
    if found:
        return CheckResult(name, False, f"{explain(found)} ({place})")
    return CheckResult(name, False, unexplained(place))


def numbers_check(
    got: Outputs,
    actual: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    labels: Mapping[str, str],
    *,
    found: Sequence[Mistake] | None,
    passed: str,
    advice: str,
    name: str = "numbers_float64",
    tol: Tolerance = FLOAT64,
) -> CheckResult:
    """The outputs named by ``labels`` (key: "3-D inputs") against the reference.

    On the first disagreement: the diagnosed mistake with where it shows, else
    "output differs from the reference (where); ``advice``"; a missing output quotes why.
    """
    return _against_reference(
        name,
        got,
        actual,
        expected,
        labels,
        tol,
        passed=passed,
        found=found,
        missing=lambda label, noun, why: f"{label}: no {noun} to compare: it {why}",
        where=lambda label, noun, comparison: f"{label}: {noun} {comparison.describe()}",
        unexplained=lambda place: f"output differs from the reference ({place}); {advice}",
    )


def float32_check(
    got: Outputs,
    expected: Mapping[str, torch.Tensor],
    labels: Mapping[str, str],
    device: str,
    *,
    numbers_ok: bool,
    prefix: str = "",
    missing_hint: str = "",
    name: str = "numbers_float32",
    numbers_name: str = "numbers_float64",
) -> CheckResult:
    """Float32 outputs on ``device`` against the float64 reference: for each key of
    ``labels`` the output ``prefix + key`` (``prefix="f32."`` when the probe names its
    float32 runs so) against ``expected[key]``, under the dtype's and device's tolerance.
    When the float64 numbers are wrong too (``numbers_ok`` false) the message points to
    the check that says why, ``numbers_name``."""
    tol = tolerance_for(torch.float32, device)
    for key, label in labels.items():
        value = got.get(prefix + key, tuple(expected[key].shape))
        if value is None:
            why = got.why(prefix + key)
            hint = f": {missing_hint}" if missing_hint else ""
            return CheckResult(name, False, f"in float32 on {device}, {label}: {why}{hint}")
        comparison = compare(value, expected[key], tol)
        if comparison.ok:
            continue
        if not numbers_ok:
            return CheckResult(
                name,
                False,
                f"float32 on {device} differs too ({label}: {comparison.describe()}); "
                f"see {numbers_name}",
            )
        return CheckResult(
            name,
            False,
            f"float64 agrees but float32 on {device} does not ({label}: "
            f"{comparison.describe()}, tolerance rtol {tol.rtol:g}, atol {tol.atol:g}): "
            "something depends on the dtype",
        )
    return CheckResult(
        name,
        True,
        f"float32 on {device} agrees with the reference (rtol {tol.rtol:g}, atol {tol.atol:g})",
    )


def finite_check(
    got: Outputs,
    key: str,
    shape: Sequence[int],
    *,
    scaled: str,
    nan_advice: str,
    expected: torch.Tensor | None = None,
    wrong_advice: str = "",
    name: str = "finite_large_inputs",
    tol: Tolerance = LARGE_INPUTS,
) -> CheckResult:
    """A float32 output for inputs scaled up (``scaled``: "q, k and v scaled by 30") must be
    finite and, given ``expected``, agree with it under ``tol``."""
    out = got.get(key, shape)
    if out is None:
        return CheckResult(name, False, f"{scaled}: the float32 output {got.why(key)}")
    if not bool(torch.isfinite(out).all()):
        return CheckResult(name, False, f"{scaled} give NaN or inf in float32: {nan_advice}")
    if expected is None:
        return CheckResult(name, True, f"{scaled}: float32 outputs are finite")
    comparison = compare(out, expected, tol)
    if not comparison.ok:
        advice = f": {wrong_advice}" if wrong_advice else ""
        return CheckResult(
            name, False, f"{scaled}: finite but wrong ({comparison.describe()}){advice}"
        )
    return CheckResult(
        name,
        True,
        f"{scaled}: float32 outputs are finite and agree with the reference "
        f"(rtol {tol.rtol:g}, atol {tol.atol:g})",
    )


def masking_check(
    got: Outputs,
    actual: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    masks: Mapping[str, str],
    *,
    numbers_ok: bool,
    found: Sequence[Mistake] | None,
    passed: str,
    accept: str,
    unexplained: str = "unmasked outputs agree but masked ones differ",
    advice: str = "positions where mask == 0 must get -inf before the softmax",
    name: str = "masking",
) -> CheckResult:
    """Masked outputs (``masks``: key -> "a 0/1 causal mask of shape (6, 6)") against the
    reference: a missing one quotes why and ``accept`` (which masks to accept), a
    diagnosed mask mistake is named, else a mismatch is blamed on numbers_float64
    when that failed too, or described with ``unexplained`` and ``advice``."""

    def otherwise(place: str) -> str:
        if not numbers_ok:
            return f"masked outputs differ too ({place}); fix numbers_float64 first"
        return f"{unexplained} ({place}): {advice}"

    return _against_reference(
        name,
        got,
        actual,
        expected,
        masks,
        FLOAT64,
        passed=passed,
        found=found,
        missing=lambda mask, noun, why: f"with {mask} the {noun} {why}: {accept}",
        where=lambda mask, noun, comparison: f"with {mask}: {noun} {comparison.describe()}",
        unexplained=otherwise,
    )


def determinism_check(
    got: Outputs, first: str, second: str, *, setting: str = "", name: str = "determinism"
) -> CheckResult:
    """Two eval-mode calls on the same input (outputs ``first`` and ``second``) must agree
    under ``DETERMINISM``; ``setting`` ("built with dropout=0.1, ") opens the failure."""
    one, two = got.get(first), got.get(second)
    if one is None or two is None:
        return CheckResult(
            name, False, f"two eval-mode calls did not both run: the second {got.why(second)}"
        )
    if one.shape != two.shape or not compare(two, one, DETERMINISM).ok:
        return CheckResult(
            name,
            False,
            f"{setting}two eval-mode calls on the same input give different outputs: dropout "
            "is active in eval mode (use nn.Dropout as a submodule, or "
            "F.dropout(..., training=self.training))",
        )
    return CheckResult(name, True, "eval mode is deterministic")


def gradients_check(
    got: Outputs,
    expected: Mapping[str, torch.Tensor],
    *,
    outputs_ok: bool,
    what: str,
    prefix: str = "grad.",
    note: str = "grad",
    nan_advice: str = "",
    outputs_check: str = "numbers_float64",
    passed: str = "gradients reach every parameter and match the reference",
    name: str = "gradients",
) -> CheckResult:
    """Gradients the probe kept as ``{prefix}{name}`` against the trusted ``expected[name]``
    (float64). ``what`` says how they were made ("backward() through the block"); the
    probe's note ``note`` quotes what raised and ``{note}.unused`` lists parameters that got
    no gradient. Failures, first found first: the backward pass raised, no gradient (the
    graph is cut), unused parameters, NaN or inf (``nan_advice`` when the outputs are
    right, else a pointer to ``outputs_check``), numbers that differ."""
    raised = got.note(note)
    if raised and not any(got.has(f"{prefix}{n}") for n in expected):
        return CheckResult(name, False, f"{what} raised {raised}")
    unused = [n for n in (got.note(f"{note}.unused") or "").split(",") if n]
    missing = [n for n in expected if not got.has(f"{prefix}{n}")]
    if missing and not set(missing) <= set(unused):
        return CheckResult(
            name,
            False,
            f"no gradient reaches {', '.join(missing)}: something cuts the graph (.detach(), "
            ".data, torch.no_grad(), or a tensor rebuilt with torch.tensor(...))",
        )
    if unused:
        return CheckResult(
            name,
            False,
            f"parameters {', '.join(unused)} receive no gradient: use them in forward or remove "
            "them",
        )
    grads = {n: got.get(f"{prefix}{n}", tuple(t.shape)) for n, t in expected.items()}
    shaped = next((n for n, g in grads.items() if g is None), None)
    if shaped is not None:
        return CheckResult(name, False, f"the gradient of {shaped} {got.why(prefix + shaped)}")
    broken = [n for n, g in grads.items() if not bool(torch.isfinite(g).all())]
    if broken:
        names = ", ".join(broken)
        if not outputs_ok:
            return CheckResult(
                name,
                False,
                f"the gradients of {names} contain NaN or inf, and the outputs are wrong too "
                f"(see {outputs_check})",
            )
        advice = f": {nan_advice}" if nan_advice else ""
        return CheckResult(name, False, f"the gradients of {names} contain NaN or inf{advice}")
    wrong = [n for n, g in grads.items() if not compare(g, expected[n], FLOAT64).ok]
    if wrong and not outputs_ok:
        return CheckResult(
            name,
            False,
            f"gradients differ from the reference because the outputs do (see {outputs_check})",
        )
    if wrong:
        return CheckResult(
            name,
            False,
            f"gradients of {', '.join(wrong)} differ from the reference although the outputs "
            "agree: avoid in-place edits of tensors autograd needs",
        )
    return CheckResult(name, True, passed)
