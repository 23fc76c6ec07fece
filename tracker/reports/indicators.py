"""Growth indicators: where a learner stands, computed from plain values.

No session, no clock reads, no I/O: the loader (``tracker.reports.data``)
reads facts and passes them in with ``today``, the learner-day the figures are
for, so every rule here is tested with literals.

Days are learner-days (``tracker.clock.Clock.local_day``: the learner's zone
through ``zoneinfo`` and the hour their day starts). Streaks step through
``date`` values one calendar day at a time and never add 86,400 seconds to an
instant, so a 23- or 25-hour day at a DST change is still one day (the Anki
review-heatmap add-on counts streaks in seconds and breaks exactly there).

Definitions, used by the report, the post and their JSON alike:
- sessions completed: the learner's rows in study_sessions (kinds study,
  submission, import);
- active day: a learner-day with a study session, a review or a check-in;
  the current streak is the run of active days ending today, or ending
  yesterday while today has nothing yet (the streak is alive until the day
  ends); the best streak is the longest run ever;
- a concept's depth is the deepest lesson passed; it is mastered at its
  target depth; a category's percent is mastered / total;
- velocity counts concepts first studied (their first session) in the last
  7 and 30 learner-days; the trend compares the last 28 days with the 28
  before: more is accelerating, fewer is slowing, the same is steady.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from tracker.clock import Clock
from tracker.reports.facts import (
    SESSION_KINDS,
    CategoryInfo,
    ConceptInfo,
    ProgressFact,
    SessionFact,
)
from tracker.rules import Streak, streak_of

ONE_DAY = timedelta(days=1)
LEVELS = ("none", "beginner", "intermediate", "advanced", "expert")
ACCELERATING, STEADY, SLOWING = "accelerating", "steady", "slowing"
CONCEPT_MILESTONES = (5, 10, 15)
DEPTH_MILESTONES = (2, 3)
MASTERED_MILESTONES = (1, 5, 10)
STREAK_MILESTONES = (7, 30, 100)


def learner_days(instants: Iterable[datetime], clock: Clock) -> set[date]:
    """The learner-days of aware instants (zone and day boundary from ``clock``)."""
    return {clock.local_day(instant) for instant in instants}


def counted_sessions(sessions: Iterable[SessionFact]) -> list[SessionFact]:
    return [s for s in sessions if s.kind in SESSION_KINDS]


def journey_start(sessions: Iterable[SessionFact]) -> date | None:
    """The learner-day of the first study session (None before any)."""
    return min((s.local_date for s in counted_sessions(sessions)), default=None)


def sessions_completed(sessions: Iterable[SessionFact]) -> int:
    return len(counted_sessions(sessions))


def streak(active_days: Iterable[date], today: date) -> Streak:
    """Current and best streaks of active learner-days up to ``today`` (``tracker.rules``)."""
    return streak_of(active_days, today)


@dataclass(frozen=True)
class DepthLevel:
    depth: int
    level: str  # none | beginner | intermediate | advanced | expert


def depth_level(depths: Mapping[str, int]) -> DepthLevel:
    """The highest depth reached: 1 beginner, 2 intermediate, 3 advanced, 4+ expert."""
    deepest = max(depths.values(), default=0)
    return DepthLevel(depth=deepest, level=LEVELS[min(max(deepest, 0), 4)])


def concept_depths(progress: Iterable[ProgressFact]) -> dict[str, int]:
    depths: dict[str, int] = {}
    for fact in progress:
        depths[fact.concept] = max(depths.get(fact.concept, 0), fact.depth)
    return depths


@dataclass(frozen=True)
class ConceptStanding:
    id: str
    title: str
    depth: int
    target_depth: int

    @property
    def status(self) -> str:
        if self.depth <= 0:
            return "not-started"
        return "mastered" if self.depth >= self.target_depth else "in-progress"


@dataclass(frozen=True)
class CategoryProgress:
    id: str
    name: str
    total: int
    completed: tuple[ConceptStanding, ...]  # mastered
    in_progress: tuple[ConceptStanding, ...]

    @property
    def fraction(self) -> float:
        return len(self.completed) / self.total if self.total else 0.0

    @property
    def percent(self) -> int:
        """Whole percent, never 0 or 100 unless nothing or everything is mastered."""
        return proportion_percent(len(self.completed), self.total)


def proportion_percent(part: int, whole: int) -> int:
    if whole <= 0 or part <= 0:
        return 0
    if part >= whole:
        return 100
    return min(99, max(1, round(100 * part / whole)))


def category_progress(
    categories: Sequence[CategoryInfo],
    concepts: Sequence[ConceptInfo],
    depths: Mapping[str, int],
) -> list[CategoryProgress]:
    """Per category, in curriculum order: total concepts, mastered and in progress."""
    result = []
    for category in categories:
        members = sorted(
            (c for c in concepts if c.category == category.id), key=lambda c: c.position
        )
        standings = [
            ConceptStanding(c.id, c.title, depths.get(c.id, 0), c.target_depth) for c in members
        ]
        result.append(
            CategoryProgress(
                id=category.id,
                name=category.title,
                total=len(standings),
                completed=tuple(s for s in standings if s.status == "mastered"),
                in_progress=tuple(s for s in standings if s.status == "in-progress"),
            )
        )
    return result


def first_studied(sessions: Iterable[SessionFact]) -> dict[str, date]:
    """Concept -> the learner-day of its first study session."""
    first: dict[str, date] = {}
    for s in counted_sessions(sessions):
        if s.concept not in first or s.local_date < first[s.concept]:
            first[s.concept] = s.local_date
    return first


@dataclass(frozen=True)
class Velocity:
    this_week: int  # new concepts in the last 7 learner-days, today included
    this_month: int  # in the last 30
    last_four_weeks: int
    previous_four_weeks: int

    @property
    def trend(self) -> str:
        if self.last_four_weeks > self.previous_four_weeks:
            return ACCELERATING
        if self.last_four_weeks < self.previous_four_weeks:
            return SLOWING
        return STEADY


def _within(day: date, today: date, first: int, last: int) -> bool:
    """``day`` is between ``first`` and ``last`` days before ``today`` (inclusive)."""
    back = (today - day).days
    return first <= back <= last


def velocity(first_days: Mapping[str, date], today: date) -> Velocity:
    days = list(first_days.values())
    return Velocity(
        this_week=sum(_within(d, today, 0, 6) for d in days),
        this_month=sum(_within(d, today, 0, 29) for d in days),
        last_four_weeks=sum(_within(d, today, 0, 27) for d in days),
        previous_four_weeks=sum(_within(d, today, 28, 55) for d in days),
    )


@dataclass(frozen=True)
class Milestone:
    family: str  # concepts | depth | mastered | weekly-goal | streak
    threshold: int
    achieved_on: date | None
    remaining: int  # how many more (concepts, depth levels, sessions, days); 0 when achieved

    @property
    def id(self) -> str:
        return f"{self.family}-{self.threshold}"

    @property
    def achieved(self) -> bool:
        return self.achieved_on is not None


@dataclass(frozen=True)
class Milestones:
    achieved: tuple[Milestone, ...]  # in the order they were reached
    next: tuple[Milestone, ...]  # the nearest unreached one of each family
    sessions_this_week: int


def _nth(days: Iterable[date], n: int) -> date | None:
    ordered = sorted(days)
    return ordered[n - 1] if len(ordered) >= n else None


def _week_goal_day(session_days: Iterable[date], goal: int) -> date | None:
    """The first learner-day on which its calendar week (Monday first) held ``goal`` sessions."""
    counts: dict[date, int] = {}
    for day in sorted(session_days):
        monday = day - timedelta(days=day.weekday())
        counts[monday] = counts.get(monday, 0) + 1
        if counts[monday] == goal:
            return day
    return None


def _streak_day(active_days: Iterable[date], length: int) -> date | None:
    """The learner-day a run of active days first reached ``length``."""
    run_start: date | None = None
    previous: date | None = None
    for day in sorted(set(active_days)):
        if previous is None or previous + ONE_DAY != day:
            run_start = day
        previous = day
        if run_start is not None and (day - run_start).days + 1 == length:
            return day
    return None


def milestones(
    *,
    sessions: Sequence[SessionFact],
    progress: Sequence[ProgressFact],
    concepts: Sequence[ConceptInfo],
    active_days: Iterable[date],
    sessions_per_week: int,
    today: date,
) -> Milestones:
    """Milestones reached by ``today`` (with the day) and the next of each family."""
    active = {d for d in active_days if d <= today}
    counted = [s for s in counted_sessions(sessions) if s.local_date <= today]
    passed = [p for p in progress if p.local_date <= today]
    first_days = first_studied(counted)
    deepest = max((p.depth for p in passed), default=0)
    targets = {c.id: c.target_depth for c in concepts}
    mastered_on: dict[str, date] = {}
    for p in sorted(passed, key=lambda p: p.local_date):
        if p.concept in targets and p.depth >= targets[p.concept]:
            mastered_on.setdefault(p.concept, p.local_date)
    monday = today - timedelta(days=today.weekday())
    this_week = sum(1 for s in counted if monday <= s.local_date <= today)
    current = streak(active, today).current

    families: list[list[Milestone]] = [
        [
            Milestone("concepts", n, _nth(first_days.values(), n), max(0, n - len(first_days)))
            for n in CONCEPT_MILESTONES
        ],
        [
            Milestone(
                "depth",
                n,
                min((p.local_date for p in passed if p.depth >= n), default=None),
                max(0, n - deepest),
            )
            for n in DEPTH_MILESTONES
        ],
        [
            Milestone("mastered", n, _nth(mastered_on.values(), n), max(0, n - len(mastered_on)))
            for n in MASTERED_MILESTONES
        ],
        [
            Milestone(
                "weekly-goal",
                sessions_per_week,
                _week_goal_day((s.local_date for s in counted), sessions_per_week),
                max(0, sessions_per_week - this_week),
            )
        ],
        [
            Milestone("streak", n, _streak_day(active, n), max(0, n - current))
            for n in STREAK_MILESTONES
        ],
    ]
    families = [[_settled(m) for m in family] for family in families]
    reached = [m for family in families for m in family if m.achieved]
    reached.sort(key=lambda m: m.achieved_on or today)  # stable: family order within a day
    upcoming = [
        next(m for m in family if not m.achieved)
        for family in families
        if any(not m.achieved for m in family)
    ]
    return Milestones(achieved=tuple(reached), next=tuple(upcoming), sessions_this_week=this_week)


def _settled(milestone: Milestone) -> Milestone:
    """Nothing remains of a milestone once reached (a streak since broken included)."""
    return replace(milestone, remaining=0) if milestone.achieved else milestone
