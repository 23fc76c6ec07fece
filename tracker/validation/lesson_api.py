"""The contract between the validation runner and a lesson's exercise files.

An exercise lesson folder holds, besides lesson.toml and lesson.md:

- ``reference.py``: the trusted reference implementation. It never enters the sandbox.
- ``exercise.py``: the skeleton a learner starts from (TODOs; it must fail the checks).
- ``probe.py``: the only lesson code that runs inside the sandbox, beside the
  learner's module. It may import torch and the standard library, nothing from
  ``tracker``. It defines::

      def run(submission: types.ModuleType, phase: str,
              inputs: dict[str, torch.Tensor], device: str
              ) -> tuple[dict[str, torch.Tensor], dict[str, str]]

  It exercises the learner's code on ``inputs`` (moved to ``device``) and
  returns tensors (brought back to CPU, contiguous) plus short notes (e.g. the
  exception a call raised). It catches exceptions per sub-probe so one failure
  does not hide the others.
- ``checks.py``: trusted; runs in the tracker's process (torch imported). It defines::

      PHASES: tuple[str, ...] = ("main",)          # optional; one worker run per phase
      PHASE_DEVICES: dict[str, str] = {}           # optional; e.g. {"memory": "cpu"}
      def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]
      def judge(inputs: dict[str, dict[str, torch.Tensor]],
                results: dict[str, PhaseResult], device: str) -> list[CheckResult]

  ``judge`` recomputes everything it compares against with ``reference.py``
  and must treat every output and note as untrusted: a missing or malformed
  tensor fails its check, notes only shape messages. The toolkit for both sides
  is ``tracker.validation.judging`` (trusted) and ``probe_kit`` (sandbox side,
  ``tracker/validation/probe_kit.py``, copied beside probe.py); docs/lessons.md
  is the guide.

``lesson.toml``'s ``[exercise]`` may declare ``forbidden_calls`` (with
``forbidden_advice``): the probe kit records which of them ran while the
learner's code ran, and the runner adds a ``no_forbidden_calls`` check after
``interface`` (``tracker.validation.forbidden``).

Nothing the learner's process prints, returns as an exit status or claims in
notes can make a check pass; only tensors that agree with the reference do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    """One named check with a message a learner can act on.

    A check that never ran because an earlier one failed (or the submission did not
    run at all) is ``skipped``: not passed, and its message says why it did not run.
    """

    name: str
    passed: bool
    message: str
    skipped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "message": self.message,
            "skipped": self.skipped,
        }


@dataclass
class PhaseResult:
    """What one sandboxed worker run handed back, plus what the runner measured from outside."""

    outputs: dict[str, Any] = field(default_factory=dict)  # name -> torch.Tensor (CPU)
    notes: dict[str, str] = field(default_factory=dict)
    peak_rss_bytes: int = 0  # the worker's peak RSS from wait4(), measured by the runner
    wall_s: float = 0.0
    error: str | None = None  # set by the runner: timeout, memory limit, crash, syntax error
