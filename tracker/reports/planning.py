"""The one adapter between the report and the planner: the plan and connections as of a day.

The journal post needs what the check-in shows (the week / month / quarter
plan and the dated connections of the focus lesson), but as it stood at the
end of the post's learner-day, so that re-exporting an old post gives the
same next steps. Everything goes through ``day_plan``, which reads through
``tracker.standing`` as the check-in does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from tracker.clock import Clock
from tracker.planner import PlannedSession
from tracker.standing import Connection


@dataclass(frozen=True)
class PlanItem:
    date: date
    lesson: str
    concept: str
    depth: int
    title: str
    has_exercise: bool


@dataclass(frozen=True)
class DayPlan:
    week: tuple[PlanItem, ...]
    month: tuple[PlanItem, ...]
    quarter: tuple[PlanItem, ...]
    connections: tuple[Connection, ...]  # earlier sessions related to the focus lesson


def day_plan(
    session: Session,
    *,
    learner_id: int,
    clock: Clock,
    day: date,
    sessions_per_week: int,
    focus_lesson: str | None,
) -> DayPlan:
    """The plan from the day after ``day`` and the connections of ``focus_lesson`` before it.

    Progress passed after ``day`` is left out, so the plan is the one a
    check-in the next morning would have made.
    """
    from tracker.planner import LearnerProgress, plan
    from tracker.standing import connections, read_standing

    standing = read_standing(
        session,
        learner_id=learner_id,
        clock=clock,
        today=day,
        sessions_per_week=sessions_per_week,
    )
    graph, progress, sessions = standing.graph, standing.progress, standing.sessions
    rows = [s for s in sessions if s.local_date <= day]  # most recent first
    passed = {lesson: when for lesson, when in progress.passed.items() if when <= day}
    depths: dict[str, int] = {}
    for lesson_id in passed:
        node = graph.lesson(lesson_id)
        if node is not None:
            depths[node.concept] = max(depths.get(node.concept, 0), node.depth)
    as_of = LearnerProgress(
        passed=passed, depths=depths, last_concept=rows[0].concept if rows else None
    )
    result = plan(graph, as_of, today=day + timedelta(days=1), sessions_per_week=sessions_per_week)

    node = graph.lesson(focus_lesson) if focus_lesson else None
    earlier = [s for s in rows if s.local_date < day]
    found = connections(node, earlier) if node is not None else []
    return DayPlan(
        week=_items(result.week),
        month=_items(result.month),
        quarter=_items(result.quarter),
        connections=tuple(found),
    )


def upcoming_plan(
    session: Session, *, learner_id: int, clock: Clock, today: date, sessions_per_week: int
) -> tuple[PlanItem, ...]:
    """The planned sessions from ``today`` on, exactly as `tracker checkin` plans them."""
    from tracker.standing import read_standing

    result = read_standing(
        session,
        learner_id=learner_id,
        clock=clock,
        today=today,
        sessions_per_week=sessions_per_week,
    ).plan
    return _items(p for p in (*result.week, *result.month, *result.quarter) if not p.done)


def _items(planned: Iterable[PlannedSession]) -> tuple[PlanItem, ...]:
    return tuple(
        PlanItem(
            date=p.day,
            lesson=p.pick.lesson.id,
            concept=p.pick.lesson.concept,
            depth=p.pick.lesson.depth,
            title=p.pick.lesson.title,
            has_exercise=p.pick.lesson.has_exercise,
        )
        for p in planned
    )
