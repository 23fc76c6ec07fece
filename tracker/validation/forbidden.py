"""Calls a lesson forbids: declared in lesson.toml, recorded in the sandbox, judged here.

A lesson whose point is an algorithm (flash-attention-3: tiling with an online softmax)
is defeated by a library call that computes the same numbers (PyTorch's fused
attention). Such a lesson lists the calls in its ``[exercise]`` table::

    forbidden_calls = ["torch.nn.functional.scaled_dot_product_attention", "aten::_flash_*"]
    forbidden_advice = "write the tiled loop yourself: ..."

A name is either a Python object under ``torch`` (a function, or an ``nn.Module``
class, whose forward is then forbidden) or an ``aten::`` operator pattern (``*`` and
``?`` as in shell globs) matched against the ops the dispatcher runs. The sandbox side
(``probe_kit.Recorder``) records which of them ran while the learner's code ran and
hands the names back in its notes; ``forbidden_check`` turns them into a failed check
whose message names the call and says what the lesson asks for instead.

This catches the honest shortcut; a learner who deliberately disables the recorder
(their code runs in the same process) is not stopped, and the lesson guide says so.

Standard library only: the curriculum loader validates declarations with it, and the
runner reads them for ``job.json`` before torch is imported.
"""

from __future__ import annotations

import contextlib
import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.validation.lesson_api import CheckResult, PhaseResult

CHECK = "no_forbidden_calls"
# Notes the probe kit adds to every phase it ran (the names of the keys are a contract).
CALLS_NOTE = "forbidden.calls"  # comma-separated names of what ran, in order of first use
WATCHED_NOTE = "forbidden.watched"  # how many times the learner's code ran under the recorder
PYTHON_NAME = re.compile(r"torch(\.[A-Za-z_][A-Za-z0-9_]*)+")
ATEN_PATTERN = re.compile(r"aten::[A-Za-z0-9_*?]+")


@dataclass(frozen=True)
class ForbiddenCalls:
    """What one lesson forbids, and what it asks for instead."""

    calls: tuple[str, ...] = ()
    advice: str = ""

    def __bool__(self) -> bool:
        return bool(self.calls)

    @property
    def python_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.calls if not name.startswith("aten::"))


def problems(exercise: dict[str, Any]) -> list[str]:
    """What is wrong with the ``forbidden_calls`` and ``forbidden_advice`` of an
    ``[exercise]`` table, one message per problem (empty: fine, or nothing declared)."""
    found = []
    calls = exercise.get("forbidden_calls")
    advice = exercise.get("forbidden_advice")
    if calls is None:
        if advice is not None:
            found.append("exercise.forbidden_advice needs exercise.forbidden_calls")
        return found
    if not isinstance(calls, list) or not calls:
        return ["exercise.forbidden_calls must be a non-empty list of names"]
    for name in calls:
        if not isinstance(name, str) or not (
            PYTHON_NAME.fullmatch(name) or ATEN_PATTERN.fullmatch(name)
        ):
            found.append(
                f"exercise.forbidden_calls: {name!r} is neither a dotted name under torch "
                "(torch.nn.functional.scaled_dot_product_attention) nor an aten:: pattern "
                "(aten::_flash_attention*)"
            )
    if len(set(map(str, calls))) != len(calls):
        found.append("exercise.forbidden_calls names a call twice")
    if not isinstance(advice, str) or not advice.strip():
        found.append(
            "exercise.forbidden_advice must say what the lesson asks for instead of the "
            "forbidden calls"
        )
    return found


def from_exercise(exercise: dict[str, Any]) -> ForbiddenCalls:
    """The declaration of a valid ``[exercise]`` table (see ``problems``)."""
    calls = exercise.get("forbidden_calls")
    if not isinstance(calls, list):
        return ForbiddenCalls()
    return ForbiddenCalls(tuple(str(c) for c in calls), str(exercise.get("forbidden_advice", "")))


def declared(lesson_dir: Path) -> ForbiddenCalls:
    """The forbidden calls of the lesson in ``lesson_dir`` (none when it declares none)."""
    path = lesson_dir / "lesson.toml"
    try:
        return _declared(str(path.resolve()), path.stat().st_mtime_ns)
    except OSError:
        return ForbiddenCalls()


@functools.cache
def _declared(path: str, _mtime_ns: int) -> ForbiddenCalls:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ForbiddenCalls()
    exercise = data.get("exercise")
    if not isinstance(exercise, dict) or problems(exercise):
        return ForbiddenCalls()  # the curriculum loader reports it on every command
    return from_exercise(exercise)


def forbidden_check(results: dict[str, PhaseResult], forbidden: ForbiddenCalls) -> CheckResult:
    """``no_forbidden_calls`` from the probe kit's notes of every phase that ran.

    The notes are untrusted like everything from the sandbox; they can only fail a
    submission (a recorded call) or flag a lesson whose probe never ran the learner's
    code under the recorder, which the lesson's own reference would show in its tests.
    """
    ran: list[str] = []
    watched = 0
    for result in results.values():
        if result is None or result.error:
            continue
        for name in result.notes.get(CALLS_NOTE, "").split(","):
            if name.strip() and name.strip() not in ran:
                ran.append(name.strip())
        with contextlib.suppress(ValueError):
            watched += max(0, int(result.notes.get(WATCHED_NOTE, "0")))
    if ran:
        python = [name for name in ran if not name.startswith("aten::")]
        aten = [name for name in ran if name.startswith("aten::")]
        named = ", ".join(python or aten)
        if python and aten:
            named += f" (dispatched to {', '.join(aten)})"
        return CheckResult(
            CHECK,
            False,
            f"the submission calls {named}, which this lesson forbids: {forbidden.advice}",
        )
    if watched == 0:
        return CheckResult(
            CHECK,
            False,
            "the lesson's probe never ran the submission under the forbidden-call recorder "
            "(a lesson bug: call the learner's code through probe_kit's Probe.call)",
        )
    shown = list(forbidden.python_names)
    patterns = len(forbidden.calls) - len(shown)
    if patterns:
        shown.append(f"{patterns} aten:: operator pattern{'s' if patterns > 1 else ''}")
    return CheckResult(
        CHECK, True, f"none of the lesson's forbidden calls ran ({', '.join(shown)})"
    )


def with_forbidden_check(
    checked: list[CheckResult], results: dict[str, PhaseResult], forbidden: ForbiddenCalls
) -> list[CheckResult]:
    """The judge's checks with ``no_forbidden_calls`` after ``interface`` (first otherwise);
    skipped, for the same reason, when the check in its place was skipped."""
    if not forbidden or not checked:  # nothing judged: the runner reports that instead
        return checked
    at = 1 if checked and checked[0].name == "interface" else 0
    if at < len(checked) and checked[at].skipped:
        check = CheckResult(CHECK, False, checked[at].message, skipped=True)
    else:
        check = forbidden_check(results, forbidden)
    return [*checked[:at], check, *checked[at:]]
