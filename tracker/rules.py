"""The domain rules every face shares: requirements, lesson status, concept status, depth.

Pure values and functions (standard library only), so the planner, the check-in,
the catalog, the report and the importer all apply one rule, and a test can
check it with literals:

- a lesson needs each of its ``concept@depth`` requirements held (a concept's
  depth is the deepest lesson of it passed); a lesson never needs the
  shallower lessons of its own concept;
- a lesson is ``passed``, else ``available`` when every requirement is held,
  else ``locked``;
- a concept is ``not-started`` at depth 0, ``mastered`` at its target depth,
  ``in-progress`` in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

PASSED, AVAILABLE, LOCKED = "passed", "available", "locked"
NOT_STARTED, IN_PROGRESS, MASTERED = "not-started", "in-progress", "mastered"

# What a lesson of each depth is about (docs/architecture.md, "Curriculum").
DEPTH_LABELS = {
    1: "what and why",
    2: "mechanism and code",
    3: "optimisation and variants",
    4: "research frontier",
}


@dataclass(frozen=True)
class Requirement:
    """A lesson needs ``concept`` at ``depth`` or deeper."""

    concept: str
    depth: int

    def __str__(self) -> str:
        return f"{self.concept}@{self.depth}"


def depth_label(depth: int) -> str:
    return DEPTH_LABELS.get(depth, f"depth {depth}")


def missing_requirements(
    requires: Iterable[Requirement], depths: Mapping[str, int]
) -> list[Requirement]:
    """Requirements not held yet (empty: the lesson is unlocked)."""
    return [r for r in requires if depths.get(r.concept, 0) < r.depth]


def lesson_status(
    lesson_id: str,
    requires: Iterable[Requirement],
    *,
    passed: Iterable[str] | Mapping[str, object],
    depths: Mapping[str, int],
) -> str:
    """``passed``, ``available`` (every requirement held) or ``locked``."""
    if lesson_id in passed:
        return PASSED
    return LOCKED if missing_requirements(requires, depths) else AVAILABLE


def concept_status(depth: int, target_depth: int) -> str:
    if depth <= 0:
        return NOT_STARTED
    return MASTERED if depth >= target_depth else IN_PROGRESS


def locked_message(
    lesson_id: str, missing: Iterable[Requirement], depths: Mapping[str, int]
) -> str:
    """Why a lesson cannot be studied yet, and the two ways forward."""
    needs = ", ".join(f"{r} (you have depth {depths.get(r.concept, 0)})" for r in missing)
    return (
        f"{lesson_id} is locked: it needs {needs}; read it with `tracker lesson show "
        f"{lesson_id}`, or study it anyway with `tracker learn {lesson_id} --force`"
    )


@dataclass(frozen=True)
class Streak:
    """Consecutive learner-days with activity, counted on dates (never by adding seconds,
    so a 23- or 25-hour day around a DST change is one day like any other)."""

    current: int  # the run ending today; 0 when today has no activity yet
    best: int  # the longest run ever
    missed: int  # days missed between the previous run and the current one
    alive: int  # the run still unbroken: ending today, else yesterday (today may extend it)
    last_active: date | None = None

    @property
    def active_today(self) -> bool:
        return self.current > 0


def streak_of(active_days: Iterable[date], today: date) -> Streak:
    runs: list[tuple[date, date]] = []
    for day in sorted({day for day in active_days if day <= today}):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))

    def length(run: tuple[date, date]) -> int:
        return (run[1] - run[0]).days + 1

    best = max((length(run) for run in runs), default=0)
    current = length(runs[-1]) if runs and runs[-1][1] == today else 0
    alive = current
    if runs and runs[-1][1] == today - timedelta(days=1):
        alive = length(runs[-1])
    missed = (runs[-1][0] - runs[-2][1]).days - 1 if current and len(runs) > 1 else 0
    last = runs[-1][1] if runs else None
    return Streak(current=current, best=best, missed=missed, alive=alive, last_active=last)
