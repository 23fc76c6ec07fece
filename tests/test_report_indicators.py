"""tracker.reports.indicators: each growth indicator over literals, days across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tracker.clock import Clock
from tracker.reports import indicators as ind
from tracker.reports.facts import CategoryInfo, ConceptInfo, ProgressFact, SessionFact

BERLIN = ZoneInfo("Europe/Berlin")
D = date(2025, 11, 14)  # a Friday


def session(day: date, concept: str = "transformer", depth: int = 1, kind: str = "study"):  # noqa: ANN201
    at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return SessionFact(at, day, concept, depth, f"{concept}-{depth}", kind)


def days_back(*backs: int) -> list[date]:
    return [D - timedelta(days=b) for b in backs]


def test_journey_start_and_sessions_count_only_study_rows() -> None:
    rows = [
        session(D, kind="submission"),
        session(D - timedelta(days=3), kind="import"),
        session(D - timedelta(days=9), kind="practice"),  # not a study session
        session(D - timedelta(days=1)),
    ]
    assert ind.journey_start(rows) == D - timedelta(days=3)
    assert ind.sessions_completed(rows) == 3
    assert ind.journey_start([]) is None and ind.sessions_completed([]) == 0


def test_streak_current_best_and_a_day_not_yet_done() -> None:
    active = days_back(0, 1, 2, 5, 6, 7, 8, 20)
    s = ind.streak(active, D)
    assert (s.alive, s.best, s.active_today, s.last_active, s.missed) == (3, 4, True, D, 2)
    # Before anything today the run ending yesterday is still unbroken.
    s = ind.streak(days_back(1, 2), D)
    assert (s.alive, s.current, s.best, s.active_today) == (2, 0, 2, False)
    # Two days without anything break it; the best survives.
    s = ind.streak(days_back(2, 3, 4), D)
    assert (s.alive, s.best, s.last_active) == (0, 3, D - timedelta(days=2))
    # Days after ``today`` (a report for an earlier --date) are not counted.
    assert ind.streak(days_back(0, -1, -2), D - timedelta(days=-1)).alive == 2
    assert ind.streak([], D) == ind.Streak(0, 0, 0, 0, None)


def test_streak_counts_learner_days_across_dst_not_86400_seconds() -> None:
    clock = Clock(tz=BERLIN, day_starts_at=0)
    # 00:30 local on four days around the autumn change: 2025-10-26 has 25 hours,
    # so one pair of neighbours is 25 h apart, and around the spring change 23 h.
    autumn = [datetime(2025, 10, d, 0, 30, tzinfo=BERLIN) for d in (25, 26, 27, 28)]
    utc = [a.astimezone(UTC) for a in autumn]  # same-zone subtraction would be wall-clock
    gaps = {(b - a).total_seconds() / 3600 for a, b in zip(utc, utc[1:], strict=False)}
    assert gaps == {24.0, 25.0}
    assert ind.streak(ind.learner_days(autumn, clock), date(2025, 10, 28)).alive == 4
    spring = [datetime(2025, 3, d, 23, 45, tzinfo=BERLIN) for d in (29, 30, 31)]
    assert (spring[1].astimezone(UTC) - spring[0].astimezone(UTC)).total_seconds() == 23 * 3600
    assert ind.streak(ind.learner_days(spring, clock), date(2025, 3, 31)).best == 3


def test_streak_uses_the_day_boundary() -> None:
    clock = Clock(tz=BERLIN, day_starts_at=4)
    # 01:30 on the 31st is still the learner-day of the 30th (the boundary is 04:00).
    instants = [
        datetime(2025, 3, 29, 22, 0, tzinfo=BERLIN),
        datetime(2025, 3, 31, 1, 30, tzinfo=BERLIN),
        datetime(2025, 3, 31, 4, 15, tzinfo=BERLIN),
    ]
    days = ind.learner_days(instants, clock)
    assert days == {date(2025, 3, 29), date(2025, 3, 30), date(2025, 3, 31)}
    assert ind.streak(days, date(2025, 3, 31)).alive == 3
    # With a midnight boundary the same work leaves the 30th empty.
    midnight = ind.learner_days(instants, Clock(tz=BERLIN, day_starts_at=0))
    assert ind.streak(midnight, date(2025, 3, 31)).alive == 1


@pytest.mark.parametrize(
    ("depths", "expected"),
    [
        ({}, (0, "none")),
        ({"a": 1}, (1, "beginner")),
        ({"a": 1, "b": 2}, (2, "intermediate")),
        ({"a": 3}, (3, "advanced")),
        ({"a": 4}, (4, "expert")),
        ({"a": 6, "b": 1}, (6, "expert")),
    ],
)
def test_depth_level(depths: dict[str, int], expected: tuple[int, str]) -> None:
    level = ind.depth_level(depths)
    assert (level.depth, level.level) == expected


CATEGORIES = [CategoryInfo("architecture", "Architecture"), CategoryInfo("safety", "Safety")]
CONCEPTS = [
    ConceptInfo("attention-mechanism", "Attention mechanism", "architecture", 2, 0),
    ConceptInfo("multi-head-attention", "Multi-head attention", "architecture", 3, 3),
    ConceptInfo("flash-attention", "Flash attention", "architecture", 3, 4),
    ConceptInfo("transformer", "Transformer", "architecture", 2, 1),
    ConceptInfo("alignment", "Alignment", "safety", 1, 14),
]


def test_category_progress_names_counts_and_percent() -> None:
    depths = {"attention-mechanism": 2, "multi-head-attention": 2, "transformer": 3}
    architecture, safety = ind.category_progress(CATEGORIES, CONCEPTS, depths)
    assert (architecture.name, architecture.total, architecture.percent) == ("Architecture", 4, 50)
    assert [s.id for s in architecture.completed] == ["attention-mechanism", "transformer"]
    assert [(s.title, s.depth, s.target_depth) for s in architecture.in_progress] == [
        ("Multi-head attention", 2, 3)
    ]
    assert (safety.total, safety.percent, safety.completed, safety.in_progress) == (1, 0, (), ())


@pytest.mark.parametrize(
    ("part", "whole", "percent"),
    [(0, 7, 0), (1, 200, 1), (2, 7, 29), (199, 200, 99), (7, 7, 100), (0, 0, 0)],
)
def test_percent_is_never_rounded_to_nothing_or_to_done(
    part: int, whole: int, percent: int
) -> None:
    assert ind.proportion_percent(part, whole) == percent


def test_velocity_counts_new_concepts_and_the_trend() -> None:
    first = {
        "a": D,  # this week
        "b": D - timedelta(days=6),  # this week (7 days, today included)
        "c": D - timedelta(days=7),  # this month only
        "d": D - timedelta(days=29),  # this month, the previous four weeks
        "e": D - timedelta(days=40),
    }
    v = ind.velocity(first, D)
    assert (v.this_week, v.this_month, v.last_four_weeks, v.previous_four_weeks) == (2, 4, 3, 2)
    assert v.trend == ind.ACCELERATING
    assert ind.velocity({"a": D - timedelta(days=30)}, D).trend == ind.SLOWING
    assert ind.velocity({}, D).trend == ind.STEADY
    assert ind.velocity({"a": D, "b": D - timedelta(days=28)}, D).trend == ind.STEADY


def test_first_studied_is_the_first_session_of_each_concept() -> None:
    rows = [session(D, "a"), session(D - timedelta(days=2), "a"), session(D, "b", kind="import")]
    assert ind.first_studied(rows) == {"a": D - timedelta(days=2), "b": D}


def _by_id(milestones: tuple[ind.Milestone, ...]) -> dict[str, ind.Milestone]:
    return {m.id: m for m in milestones}


def test_milestones_achieved_with_their_day_and_what_remains() -> None:
    monday = D - timedelta(days=4)
    concepts = [ConceptInfo(f"c{i}", f"C{i}", "architecture", 2, i) for i in range(12)]
    sessions = [session(monday - timedelta(days=7 * (6 - i)), f"c{i}") for i in range(6)]  # weekly
    sessions += [session(monday, "c6"), session(monday + timedelta(days=2), "c7")]
    progress = [ProgressFact(f"c{i}-1", f"c{i}", 1, s.local_date) for i, s in enumerate(sessions)]
    progress.append(ProgressFact("c0-2", "c0", 2, monday - timedelta(days=10)))  # mastered
    active = {s.local_date for s in sessions} | set(days_back(0, 1))
    result = ind.milestones(
        sessions=sessions,
        progress=progress,
        concepts=concepts,
        active_days=active,
        sessions_per_week=3,
        today=D,
    )
    achieved = _by_id(result.achieved)
    assert set(achieved) == {"concepts-5", "depth-2", "mastered-1"}
    assert achieved["concepts-5"].achieved_on == monday - timedelta(days=14)
    assert achieved["depth-2"].achieved_on == monday - timedelta(days=10)
    assert [m.achieved_on for m in result.achieved] == sorted(
        m.achieved_on for m in result.achieved
    )
    upcoming = {m.id: m.remaining for m in result.next}
    # 8 concepts studied, deepest 2, one mastered, 2 sessions this week, streak 3 (Wed-Fri).
    assert upcoming == {
        "concepts-10": 2,
        "depth-3": 1,
        "mastered-5": 4,
        "weekly-goal-3": 1,
        "streak-7": 4,
    }
    assert result.sessions_this_week == 2


def test_weekly_goal_and_streak_milestones_keep_their_day() -> None:
    # Three sessions in the calendar week of Monday 2025-11-03; the third on Thursday.
    week = [date(2025, 11, 3), date(2025, 11, 5), date(2025, 11, 6)]
    sessions = [session(d, "a") for d in week]
    streak_days = [date(2025, 10, 20) + timedelta(days=i) for i in range(8)]
    result = ind.milestones(
        sessions=sessions,
        progress=[],
        concepts=[],
        active_days=[*week, *streak_days],
        sessions_per_week=3,
        today=D,
    )
    achieved = _by_id(result.achieved)
    assert achieved["weekly-goal-3"].achieved_on == date(2025, 11, 6)
    assert achieved["streak-7"].achieved_on == date(2025, 10, 26)
    assert (
        achieved["streak-7"].remaining == 0
    )  # reached once: nothing remains, streak broken or not
    assert _by_id(result.next)["streak-30"].remaining == 30  # no current streak on D
    # Sessions across a week boundary (Sun + Mon + Tue) do not make a week's goal.
    split = [
        session(date(2025, 11, 9), "a"),
        session(date(2025, 11, 10), "a"),
        session(date(2025, 11, 11), "a"),
    ]
    none = ind.milestones(
        sessions=split, progress=[], concepts=[], active_days=[], sessions_per_week=3, today=D
    )
    assert "weekly-goal-3" not in _by_id(none.achieved)
