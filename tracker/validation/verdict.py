"""A validation's verdict and its JSON form, in both directions.

Standard library only: the hand-off client turns the verdict ``tracker serve``
sends back into the same object a cold submit builds, and renders it, without
loading the runner, SQLAlchemy or torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker.validation.lesson_api import CheckResult


@dataclass
class Verdict:
    """The outcome of one validation; ``as_dict`` is the ``submit --json`` document."""

    lesson: str
    passed: bool
    device: str
    isolation: str
    duration_s: float
    checks: list[CheckResult]
    error: str | None
    seed: int
    recorded: bool = False
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "passed": self.passed,
            "recorded": self.recorded,
            "device": self.device,
            "isolation": self.isolation,
            "duration_s": round(self.duration_s, 3),
            "checks": [check.as_dict() for check in self.checks],
            "error": self.error,
            "seed": self.seed,
            "phases": self.phases,
        }


def verdict_from(document: dict[str, Any]) -> Verdict:
    """A Verdict from its ``as_dict`` form; KeyError, TypeError or ValueError when malformed."""
    checks = document["checks"]
    if not isinstance(checks, list):
        raise TypeError("checks is not a list")
    return Verdict(
        lesson=str(document["lesson"]),
        passed=bool(document["passed"]),
        device=str(document["device"]),
        isolation=str(document["isolation"]),
        duration_s=float(document["duration_s"]),
        checks=[
            CheckResult(
                str(c["name"]), bool(c["passed"]), str(c["message"]), bool(c.get("skipped"))
            )
            for c in checks
        ],
        error=document["error"] if document["error"] is None else str(document["error"]),
        seed=int(document["seed"]),
        recorded=bool(document.get("recorded", False)),
        phases=dict(document.get("phases") or {}),
    )
