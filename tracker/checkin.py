"""The daily check-in: record the day, then say where the learner stands and what to study.

This is the command learners run every morning, so it is written for speed:
the curriculum comes from the DB rows the sync keeps current (never from
lessons/ on disk, except the main path, which lives only in curriculum.toml),
everything is read in the one short write transaction that records the
check-in, and nothing here imports rich, fsrs, Alembic or torch. The choice of
lesson is ``tracker.planner``'s; this module only turns rows into its inputs
and its answer into the JSON document of ARCHITECTURE.md.

``learn`` lives here too: it shares the graph and the lock rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

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
from tracker.due import count_due, due_until
from tracker.errors import CurriculumError, LessonNotFound, UsageError
from tracker.planner import (
    CourseGraph,
    LearnerProgress,
    LessonNode,
    Pick,
    Plan,
    PlannedSession,
    Requirement,
    plan,
)

DEPTH_LABELS = {
    1: "what and why",
    2: "mechanism and code",
    3: "optimisation and variants",
    4: "research frontier",
}
MAX_CONNECTIONS = 10


class LessonLocked(UsageError):
    """The lesson's prerequisites are not met yet (the answer is "not yet", exit 1)."""

    exit_code = 1


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


def connections(
    focus: LessonNode, sessions: Sequence[SessionRow], *, limit: int = MAX_CONNECTIONS
) -> list[dict[str, Any]]:
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
            {
                "date": row.local_date.isoformat(),
                "concept": row.concept,
                "depth": row.depth,
                "lesson": row.lesson,
                "kind": row.kind,
                "relation": relation,
            }
        )
        if len(found) >= limit:
            break
    return found


def next_step(lesson: LessonNode) -> str:
    if lesson.has_exercise:
        return f"tracker learn {lesson.id}, then tracker submit {lesson.id} FILE"
    return f"tracker learn {lesson.id}"


def focus_document(pick: Pick | None, due_reviews: int) -> dict[str, Any] | None:
    if pick is None:
        return None
    lesson = pick.lesson
    return {
        "concept": lesson.concept,
        "depth": lesson.depth,
        "lesson": lesson.id,
        "reason": pick.reason,
        "title": lesson.title,
        "depth_label": DEPTH_LABELS.get(lesson.depth, f"depth {lesson.depth}"),
        "rule": pick.rule,
        "has_exercise": lesson.has_exercise,
        "next_step": next_step(lesson),
        "reviews_first": due_reviews,
        "first": reviews_first_text(due_reviews),
    }


def reviews_first_text(due_reviews: int) -> str | None:
    if due_reviews <= 0:
        return None
    noun = "review" if due_reviews == 1 else "reviews"
    return f"{due_reviews} {noun} due first: run `tracker review`"


def planned_item(planned: PlannedSession) -> dict[str, Any]:
    lesson = planned.pick.lesson
    return {
        "concept": lesson.concept,
        "depth": lesson.depth,
        "lesson": lesson.id,
        "title": lesson.title,
        "date": planned.day.isoformat(),
        "rule": planned.pick.rule,
        "reason": planned.pick.reason,
        "has_exercise": lesson.has_exercise,
    }


def plan_lists(result: Plan) -> dict[str, list[dict[str, Any]]]:
    return {
        "week": [planned_item(p) for p in result.week],
        "month": [planned_item(p) for p in result.month],
        "quarter": [planned_item(p) for p in result.quarter],
    }


def _standing(
    session: Session, *, learner_id: int, clock: Clock, today: date, sessions_per_week: int
) -> tuple[CourseGraph, LearnerProgress, list[SessionRow], Plan]:
    graph = load_graph(session, main_path=read_main_path())
    sessions = load_sessions(session, learner_id=learner_id)
    progress = load_progress(session, learner_id=learner_id, clock=clock, sessions=sessions)
    result = plan(graph, progress, today=today, sessions_per_week=sessions_per_week)
    return graph, progress, sessions, result


def check_in(
    session: Session, *, learner_id: int, clock: Clock, now: datetime, sessions_per_week: int
) -> dict[str, Any]:
    """Record today's check-in (idempotent) and compose the check-in document.

    Call inside one write transaction: the record and every read see one state.
    """
    today = clock.local_day(now)
    checked_in_at, checkin_days = record_checkin(session, learner_id=learner_id, day=today, now=now)
    graph, progress, sessions, result = _standing(
        session,
        learner_id=learner_id,
        clock=clock,
        today=today,
        sessions_per_week=sessions_per_week,
    )
    streak = streak_days([*checkin_days, *(s.local_date for s in sessions)], today)
    due = count_due(session=session, learner_id=learner_id, until=due_until(clock, now))
    focus = result.focus
    return {
        "date": today.isoformat(),
        "streak_days": streak,
        "sessions_completed": len(sessions),
        "due_reviews": due,
        "focus": focus_document(focus, due),
        "connections": connections(focus.lesson, sessions) if focus else [],
        "plan": plan_lists(result),
        "checked_in_at": checked_in_at.isoformat(),
        "sessions_per_week": sessions_per_week,
        "lessons_passed": sum(1 for n in graph.lessons if n.id in progress.passed),
        "lessons_total": len(graph.lessons),
        "main_path": [
            {"lesson": lesson_id, "passed": lesson_id in progress.passed}
            for lesson_id in graph.main_path
        ],
    }


def plan_document(
    session: Session, *, learner_id: int, clock: Clock, now: datetime, sessions_per_week: int
) -> dict[str, Any]:
    """The plan alone (records nothing): today's focus and the week / month / quarter lists."""
    today = clock.local_day(now)
    _graph, _progress, _sessions, result = _standing(
        session,
        learner_id=learner_id,
        clock=clock,
        today=today,
        sessions_per_week=sessions_per_week,
    )
    return {
        "date": today.isoformat(),
        "sessions_per_week": sessions_per_week,
        "focus": focus_document(result.focus, 0),
        **plan_lists(result),
    }


# --- learn -----------------------------------------------------------------


@dataclass(frozen=True)
class LessonView:
    """A lesson as `learn` shows it, with its lock state for this learner."""

    lesson: LessonNode
    content: str
    questions: tuple[str, ...]
    missing: tuple[tuple[Requirement, int], ...]  # unmet prerequisite, depth held
    concept_depth: int
    passed_before: bool


def _lesson_row(session: Session, lesson_id: str) -> Lesson:
    row = session.get(Lesson, lesson_id)
    if row is None or row.retired:
        raise LessonNotFound(f"no lesson {lesson_id!r}; see `tracker lessons`")
    return row


def _missing(row: Lesson, depths: dict[str, int]) -> tuple[tuple[Requirement, int], ...]:
    return tuple(
        (Requirement(p.concept_id, p.depth), depths.get(p.concept_id, 0))
        for p in sorted(row.prerequisites, key=lambda p: p.concept_id)
        if depths.get(p.concept_id, 0) < p.depth
    )


def locked_message(lesson_id: str, missing: Iterable[tuple[Requirement, int]]) -> str:
    needs = ", ".join(f"{r} (you have depth {held})" for r, held in missing)
    return (
        f"{lesson_id} is locked: it needs {needs}; read it with `tracker lesson show "
        f"{lesson_id}`, or study it anyway with `tracker learn {lesson_id} --force`"
    )


def view_lesson(
    session: Session, *, learner_id: int, lesson_id: str, lessons_root: Path | None = None
) -> LessonView:
    """The lesson's text, questions and lock state; its text is read from lessons/."""
    import json

    from tracker.progress import concept_depths

    row = _lesson_row(session, lesson_id)
    node = LessonNode(
        id=row.id,
        concept=row.concept_id,
        depth=row.depth,
        category=row.concept.category,
        requires=tuple(Requirement(p.concept_id, p.depth) for p in row.prerequisites),
        title=row.title,
        has_exercise=row.has_exercise,
    )
    depths = concept_depths(session, learner_id=learner_id)
    passed_before = (
        session.scalar(
            select(Progress.id).where(
                Progress.learner_id == learner_id, Progress.lesson_id == lesson_id
            )
        )
        is not None
    )
    if lessons_root is None:
        from tracker.resources import lessons_dir

        lessons_root = lessons_dir()
    path = lessons_root / lesson_id / "lesson.md"
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CurriculumError(f"{path}: cannot read the lesson text: {exc}") from exc
    return LessonView(
        lesson=node,
        content=content,
        questions=tuple(q["prompt"] for q in json.loads(row.questions_json)),
        missing=_missing(row, depths),
        concept_depth=depths.get(node.concept, 0),
        passed_before=passed_before,
    )


@dataclass(frozen=True)
class StudyRecord:
    lesson: str
    concept: str
    depth: int  # the lesson's depth
    concept_depth: int  # the concept's depth after this session (never lowered)
    date: date
    first_pass: bool
    cards_created: int


def record_study(
    session: Session,
    *,
    learner_id: int,
    lesson_id: str,
    clock: Clock,
    now: datetime,
    force: bool = False,
) -> StudyRecord:
    """Record a read-through of a lesson without an exercise, inside the caller's transaction.

    Refuses a locked lesson unless ``force``; an exercise lesson is passed by
    ``tracker submit`` only. Studying a lesson again adds a session but never
    lowers a depth (``record_passed_lesson`` records progress once).
    """
    import json

    from tracker.progress import concept_depths, record_passed_lesson

    row = _lesson_row(session, lesson_id)
    if row.has_exercise:
        raise UsageError(
            f"{lesson_id} is passed by its exercise: "
            f"`tracker lesson exercise {lesson_id} -o {lesson_id}.py`, "
            f"then `tracker submit {lesson_id} {lesson_id}.py`"
        )
    depths = concept_depths(session, learner_id=learner_id)
    missing = _missing(row, depths)
    if missing and not force:
        raise LessonLocked(locked_message(lesson_id, missing))
    first_pass = (
        session.scalar(
            select(Progress.id).where(
                Progress.learner_id == learner_id, Progress.lesson_id == lesson_id
            )
        )
        is None
    )
    study = record_passed_lesson(
        session,
        learner_id=learner_id,
        lesson=row,
        kind="study",
        completed_at=now,
        local_date=clock.local_day(now),
    )
    # record_passed_lesson makes one card per question on the first pass only.
    cards = len(json.loads(row.questions_json)) if first_pass else 0
    return StudyRecord(
        lesson=lesson_id,
        concept=row.concept_id,
        depth=row.depth,
        concept_depth=max(depths.get(row.concept_id, 0), row.depth),
        date=study.local_date,
        first_pass=first_pass,
        cards_created=cards,
    )
