"""Where a learner stands: the course graph, their sessions and progress, read as plain values.

The check-in, the plan, ``learn``, the reminders and the report all start from
these reads, so they live in one module of queries (Core columns: the daily
path never configures the ORM mappers) that turn rows into the planner's
inputs. The curriculum comes from the DB rows the sync keeps current (never
from lessons/ on disk, except the main path, which lives only in
curriculum.toml). Nothing here imports rich, fsrs, Alembic or torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tracker.clock import Clock
from tracker.course import (  # noqa: F401 - re-exported: the daily reads live in tracker.course
    SessionRow,
    load_active_days,
    load_graph,
    load_progress,
    load_sessions,
    read_main_path,
)
from tracker.db.models import (
    Checkin,
    Progress,
)
from tracker.planner import CourseGraph, LearnerProgress, LessonNode, Plan, plan
from tracker.rules import Requirement, Streak, streak_of  # noqa: F401 - Streak re-exported

MAX_CONNECTIONS = 10


def streak_days(active_days: Iterable[date], today: date) -> int:
    """Consecutive learner-days with activity ending today; 0 when today has none."""
    return streak_of(active_days, today).current


def checkin_days(session: Session, *, learner_id: int, until: date) -> list[date]:
    """The learner-days with a check-in, up to ``until`` (reads only: the reminders ask)."""
    checkin = Checkin.__table__.c
    query = select(checkin.local_date).where(
        checkin.learner_id == learner_id, checkin.local_date <= until
    )
    return list(session.scalars(query))


def record_checkin(
    session: Session, *, learner_id: int, day: date, now: datetime
) -> tuple[datetime, list[date]]:
    """Record the learner-day's check-in unless there is one (one per learner-day).

    Returns when the day was first checked in, and every check-in day up to
    ``day`` (for the streak), from the one query the idempotence check needs.
    """
    first: datetime | None = None
    days: list[date] = []
    checkin = Checkin.__table__.c
    for local_date, checked_in_at in session.execute(
        select(checkin.local_date, checkin.checked_in_at).where(
            checkin.learner_id == learner_id, checkin.local_date <= day
        )
    ):
        days.append(local_date)
        if local_date == day:
            first = checked_in_at
    if first is None:
        row = {"learner_id": learner_id, "local_date": day, "checked_in_at": now}
        session.execute(insert(Checkin.__table__).values(**row))
        first = now
        days.append(day)
    return first, days


@dataclass(frozen=True)
class Connection:
    """An earlier session on a prerequisite of the focus, or on its own concept."""

    date: date
    concept: str
    depth: int
    lesson: str | None
    kind: str
    relation: str  # prerequisite | same-concept

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.date.isoformat(),
            "concept": self.concept,
            "depth": self.depth,
            "lesson": self.lesson,
            "kind": self.kind,
            "relation": self.relation,
        }


def connections(
    focus: LessonNode, sessions: Sequence[SessionRow], *, limit: int = MAX_CONNECTIONS
) -> list[Connection]:
    """Earlier sessions on the focus lesson's prerequisites and its own concept's shallower depths.

    Each session once: a lesson studied, and the same concept and depth read in
    an imported journal on the same day, are one connection.
    """
    prerequisites = {r.concept for r in focus.requires}
    found: list[Connection] = []
    seen: set[tuple[date, str, int]] = set()
    for row in sessions:  # already most recent first
        if row.concept in prerequisites:
            relation = "prerequisite"
        elif row.concept == focus.concept and row.depth < focus.depth:
            relation = "same-concept"
        else:
            continue
        key = (row.local_date, row.concept, row.depth)
        if key in seen:
            continue
        seen.add(key)
        found.append(
            Connection(row.local_date, row.concept, row.depth, row.lesson, row.kind, relation)
        )
        if len(found) >= limit:
            break
    return found


def concept_depths(session: Session, *, learner_id: int) -> dict[str, int]:
    """Each concept's depth: the deepest lesson of it passed."""
    from sqlalchemy import func

    progress = Progress.__table__.c
    rows = session.execute(
        select(progress.concept_id, func.max(progress.depth))
        .where(progress.learner_id == learner_id)
        .group_by(progress.concept_id)
    )
    return {concept: depth for concept, depth in rows}


def has_passed(session: Session, *, learner_id: int, lesson_id: str) -> bool:
    progress = Progress.__table__.c
    found = session.scalar(
        select(progress.id).where(
            progress.learner_id == learner_id, progress.lesson_id == lesson_id
        )
    )
    return found is not None


def passed_lesson_ids(session: Session, *, learner_id: int) -> set[str]:
    progress = Progress.__table__.c
    return set(session.scalars(select(progress.lesson_id).where(progress.learner_id == learner_id)))


@dataclass(frozen=True)
class Standing:
    graph: CourseGraph
    progress: LearnerProgress
    sessions: list[SessionRow]
    plan: Plan


def read_standing(
    session: Session, *, learner_id: int, clock: Clock, today: date, sessions_per_week: int
) -> Standing:
    """The graph, the learner's sessions and progress, and the plan from ``today``."""
    graph = load_graph(session, main_path=read_main_path())
    sessions = load_sessions(session, learner_id=learner_id)
    progress = load_progress(session, learner_id=learner_id, clock=clock, sessions=sessions)
    # First passes today, oldest first: today's place in the plan is taken by them.
    studied = [s.lesson for s in reversed(sessions) if s.local_date == today and s.kind != "import"]
    done = tuple(n for lesson in studied if (n := graph.lesson(lesson or "")) is not None)
    result = plan(
        graph, progress, today=today, sessions_per_week=sessions_per_week, done_today=done
    )
    return Standing(graph, progress, sessions, result)
