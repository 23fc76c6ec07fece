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
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tracker.clock import Clock
from tracker.db.models import (
    Checkin,
    Concept,
    Lesson,
    LessonPrerequisite,
    Progress,
    StudySession,
)
from tracker.planner import CourseGraph, LearnerProgress, LessonNode
from tracker.rules import Requirement

MAX_CONNECTIONS = 10


@dataclass(frozen=True)
class SessionRow:
    """One study session as the check-in needs it."""

    local_date: date
    concept: str
    depth: int
    lesson: str | None
    kind: str


def read_main_path(root: Path | None = None) -> tuple[str, ...]:
    """The main path from curriculum.toml: the one fact the DB does not hold.

    The sync has already validated the file, so a file that cannot be read
    here means no main path rather than an error: the planner still works.
    """
    import tomllib

    if root is None:
        from tracker.resources import lessons_dir

        root = lessons_dir()
    try:
        data = tomllib.loads((root / "curriculum.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    path = data.get("main_path", [])
    return tuple(str(item) for item in path) if isinstance(path, list) else ()


def load_graph(session: Session, *, main_path: Sequence[str] = ()) -> CourseGraph:
    """Lessons (not retired) with their prerequisites, in curriculum order: one query."""
    lesson, concept, needs = (
        Lesson.__table__.c,
        Concept.__table__.c,
        LessonPrerequisite.__table__.c,
    )
    rows = session.execute(
        select(
            lesson.id,
            lesson.concept_id,
            lesson.depth,
            concept.category,
            lesson.title,
            lesson.has_exercise,
            needs.concept_id,
            needs.depth,
        )
        .join_from(Lesson.__table__, Concept.__table__, concept.id == lesson.concept_id)
        .outerjoin(LessonPrerequisite.__table__, needs.lesson_id == lesson.id)
        .where(lesson.retired.is_(False))
        .order_by(lesson.position, needs.concept_id)
    )
    fields: dict[str, tuple[str, int, str, str, bool]] = {}
    requires: dict[str, list[Requirement]] = {}
    for lesson_id, concept_id, depth, category, title, exercise, needs, needs_depth in rows:
        fields.setdefault(lesson_id, (concept_id, depth, category, title, bool(exercise)))
        wanted = requires.setdefault(lesson_id, [])
        if needs is not None:
            wanted.append(Requirement(needs, needs_depth))
    lessons = tuple(
        LessonNode(
            id=lesson_id,
            concept=concept_id,
            depth=depth,
            category=category,
            requires=tuple(requires[lesson_id]),
            title=title,
            has_exercise=exercise,
        )
        for lesson_id, (concept_id, depth, category, title, exercise) in fields.items()
    )
    return CourseGraph(lessons=lessons, main_path=tuple(i for i in main_path if i in fields))


def load_sessions(session: Session, *, learner_id: int) -> list[SessionRow]:
    """Every study session of the learner, most recent first."""
    study = StudySession.__table__.c
    rows = session.execute(
        select(study.local_date, study.concept_id, study.depth, study.lesson_id, study.kind)
        .where(study.learner_id == learner_id)
        .order_by(study.completed_at.desc(), study.id.desc())
    )
    return [SessionRow(*row) for row in rows]


def load_progress(
    session: Session, *, learner_id: int, clock: Clock, sessions: Sequence[SessionRow]
) -> LearnerProgress:
    passed: dict[str, date] = {}
    depths: dict[str, int] = {}
    progress = Progress.__table__.c
    for lesson_id, concept_id, depth, achieved_at in session.execute(
        select(progress.lesson_id, progress.concept_id, progress.depth, progress.achieved_at).where(
            progress.learner_id == learner_id
        )
    ):
        passed[lesson_id] = clock.local_day(achieved_at)
        depths[concept_id] = max(depths.get(concept_id, 0), depth)
    return LearnerProgress(
        passed=passed,
        depths=depths,
        last_concept=sessions[0].concept if sessions else None,
    )


def streak_days(active_days: Iterable[date], today: date) -> int:
    """Consecutive learner-days with activity ending today; 0 when today has none."""
    days = set(active_days)
    streak = 0
    while today - timedelta(days=streak) in days:
        streak += 1
    return streak


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
    """Earlier sessions on the focus lesson's prerequisite concepts and on its own concept."""
    prerequisites = {r.concept for r in focus.requires}
    found = []
    for row in sessions:  # already most recent first
        if row.concept in prerequisites:
            relation = "prerequisite"
        elif row.concept == focus.concept:
            relation = "same-concept"
        else:
            continue
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
