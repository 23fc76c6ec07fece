"""The daily reads in plain SQL: the course graph, a learner's sessions, progress, due counts.

`tracker status` runs on every shell prompt, so it reads the SQLite file with
the standard library's sqlite3 and never imports SQLAlchemy; the check-in,
the plan and the reminders run the very same statements through their
SQLAlchemy session. One text per query, valid on SQLite and PostgreSQL, one
place where the rules "what is due" and "what counts as an active day" are
written, and two ways to run them (``rows``).

Values come back as the driver gives them (SQLite: text for dates and
instants; PostgreSQL: ``date`` and aware ``datetime``), and are normalised
here, so callers see the same types either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tracker.clock import Clock
from tracker.planner import CourseGraph, LearnerProgress, LessonNode
from tracker.rules import Requirement

SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a UTC instant in SQLite


def rows(source: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:  # noqa: ANN401
    """Run ``sql`` (``:name`` parameters) on a sqlite3 connection or a SQLAlchemy session."""
    if isinstance(source, sqlite3.Connection):
        clean = {k: _sqlite_value(v) for k, v in params.items()}
        return source.execute(sql, clean).fetchall()
    from sqlalchemy import text

    return [tuple(row) for row in source.execute(text(sql), params)]


def _sqlite_value(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime(SQLITE_INSTANT)
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_date(value: Any) -> date:  # noqa: ANN401
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def as_instant(value: Any) -> datetime:  # noqa: ANN401
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


@dataclass(frozen=True)
class SessionRow:
    """One study session as the check-in needs it."""

    local_date: date
    concept: str
    depth: int
    lesson: str | None
    kind: str


GRAPH = """
SELECT l.id, l.concept_id, l.depth, c.category, l.title, l.has_exercise, p.concept_id, p.depth
FROM lessons AS l
JOIN concepts AS c ON c.id = l.concept_id
LEFT OUTER JOIN lesson_prerequisites AS p ON p.lesson_id = l.id
WHERE NOT l.retired
ORDER BY l.position, p.concept_id
"""

SESSIONS = """
SELECT local_date, concept_id, depth, lesson_id, kind FROM study_sessions
WHERE learner_id = :learner ORDER BY completed_at DESC, id DESC
"""

PROGRESS = """
SELECT p.lesson_id, p.concept_id, p.depth, p.achieved_at, s.local_date
FROM progress AS p LEFT OUTER JOIN study_sessions AS s ON s.id = p.session_id
WHERE p.learner_id = :learner
"""

# A day with anything done counts for a streak: a check-in, a session, practice, a review.
ACTIVE_DAYS = """
SELECT local_date FROM checkins WHERE learner_id = :learner AND local_date <= :until
UNION SELECT local_date FROM study_sessions WHERE learner_id = :learner AND local_date <= :until
UNION SELECT local_date FROM practice_attempts WHERE learner_id = :learner AND local_date <= :until
UNION SELECT local_date FROM review_logs WHERE learner_id = :learner AND local_date <= :until
"""

# What is due: not suspended, due before the end of the learner-day (ix_review_cards_learner_due).
DUE_WHERE = "learner_id = :learner AND suspended = :no AND due < :until"
DUE_QUESTIONS = f"SELECT count(*) FROM review_cards WHERE {DUE_WHERE} AND kind <> 'code'"
DUE_CODE = (
    f"SELECT id, lesson_id FROM review_cards WHERE {DUE_WHERE} AND kind = 'code' ORDER BY due, id"
)


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


def load_graph(source: Any, *, main_path: Sequence[str] = ()) -> CourseGraph:  # noqa: ANN401
    """Lessons (not retired) with their prerequisites, in curriculum order: one query."""
    fields: dict[str, tuple[str, int, str, str, bool]] = {}
    requires: dict[str, list[Requirement]] = {}
    for lesson_id, concept_id, depth, category, title, exercise, needs, needs_depth in rows(
        source, GRAPH, {}
    ):
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


def load_sessions(source: Any, *, learner_id: int) -> list[SessionRow]:  # noqa: ANN401
    """Every study session of the learner, most recent first."""
    return [
        SessionRow(as_date(day), concept, depth, lesson, kind)
        for day, concept, depth, lesson, kind in rows(source, SESSIONS, {"learner": learner_id})
    ]


def load_progress(
    source: Any,  # noqa: ANN401
    *,
    learner_id: int,
    clock: Clock,
    sessions: Sequence[SessionRow],
) -> LearnerProgress:
    """Passed lessons with the learner-day of their first pass, and each concept's depth.

    The day is the one the pass was recorded on (its session's), so a later
    change of timezone never shows one pass under two dates.
    """
    passed: dict[str, date] = {}
    depths: dict[str, int] = {}
    for lesson_id, concept_id, depth, achieved_at, recorded_on in rows(
        source, PROGRESS, {"learner": learner_id}
    ):
        day = as_date(recorded_on) if recorded_on is not None else None
        passed[lesson_id] = day or clock.local_day(as_instant(achieved_at))
        depths[concept_id] = max(depths.get(concept_id, 0), depth)
    return LearnerProgress(
        passed=passed,
        depths=depths,
        last_concept=sessions[0].concept if sessions else None,
    )


def load_active_days(source: Any, *, learner_id: int, until: date) -> set[date]:  # noqa: ANN401
    """Learner-days with anything done, up to ``until``: what every streak counts."""
    found = rows(source, ACTIVE_DAYS, {"learner": learner_id, "until": until})
    return {as_date(day) for (day,) in found}


@dataclass(frozen=True)
class DueSummary:
    """Cards due by the end of the learner-day: those `review` rates, and code cards apart."""

    questions: int
    code_cards: tuple[tuple[int, str], ...]  # (card, lesson), oldest first


def load_due(source: Any, *, learner_id: int, until: datetime) -> DueSummary:  # noqa: ANN401
    params = {"learner": learner_id, "until": until, "no": False}
    ((questions,),) = rows(source, DUE_QUESTIONS, params)
    code = rows(source, DUE_CODE, params)
    return DueSummary(questions or 0, tuple((card, lesson) for card, lesson in code))
