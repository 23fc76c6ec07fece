"""`tracker status`: where the learner stands today, in one line, fast enough for every prompt.

The same reads as the check-in (``tracker.course``), without recording
anything: what is due (the cards `review` rates, and code cards apart), the
streak (a check-in today would extend it), whether today is checked in, and
the check-in's focus. ``fast_status`` answers from the SQLite file with the
standard library alone, before click or SQLAlchemy load; anything it cannot
answer that way (PostgreSQL, a schema to upgrade, a learner to create) goes
to the full command, which calls ``status`` on the store. It reads the
curriculum the database holds without hashing lessons/ first (that costs more
than the rest of it); the next other command syncs edited lessons.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tracker.config import Settings
from tracker.course import (
    load_active_days,
    load_due,
    load_graph,
    load_progress,
    load_sessions,
    read_main_path,
    rows,
)
from tracker.planner import plan


@dataclass(frozen=True)
class StatusDocument:
    date: date
    due_reviews: int
    due_code_cards: int
    streak_days: int
    checked_in_today: bool
    focus: tuple[str, str, int] | None  # (lesson, concept, depth)

    def as_dict(self) -> dict[str, Any]:
        focus = None
        if self.focus is not None:
            lesson, concept, depth = self.focus
            focus = {"lesson": lesson, "concept": concept, "depth": depth}
        return {
            "date": self.date.isoformat(),
            "due_reviews": self.due_reviews,
            "due_code_cards": self.due_code_cards,
            "streak_days": self.streak_days,
            "checked_in_today": self.checked_in_today,
            "focus": focus,
        }


def status_of(source: Any, *, learner_id: int, now: datetime, settings: Settings) -> StatusDocument:  # noqa: ANN401
    """The status from one connection or session (a read; records nothing)."""
    from tracker.rules import streak_of

    clock = settings.clock
    today = clock.local_day(now)
    due = load_due(source, learner_id=learner_id, until=clock.day_end(today))
    active = load_active_days(source, learner_id=learner_id, until=today)
    checked = rows(
        source,
        "SELECT count(*) FROM checkins WHERE learner_id = :learner AND local_date = :day",
        {"learner": learner_id, "day": today},
    )[0][0]
    graph = load_graph(source, main_path=read_main_path())
    sessions = load_sessions(source, learner_id=learner_id)
    progress = load_progress(source, learner_id=learner_id, clock=clock, sessions=sessions)
    studied = [s.lesson for s in reversed(sessions) if s.local_date == today and s.kind != "import"]
    done = tuple(n for lesson in studied if (n := graph.lesson(lesson or "")) is not None)
    focus = plan(
        graph,
        progress,
        today=today,
        sessions_per_week=settings.sessions_per_week,
        done_today=done,
    ).focus
    return StatusDocument(
        date=today,
        due_reviews=due.questions,
        due_code_cards=len(due.code_cards),
        streak_days=streak_of(active, today).alive,
        checked_in_today=bool(checked),
        focus=(focus.lesson.id, focus.lesson.concept, focus.lesson.depth) if focus else None,
    )


def status(store: Any, *, learner_id: int, now: datetime) -> StatusDocument:  # noqa: ANN401
    with store.read() as session:
        return status_of(session, learner_id=learner_id, now=now, settings=store.settings)


FAST_BUSY_TIMEOUT_S = 0.5


def fast_status(db: str | None) -> StatusDocument | None:
    """The status straight from a current SQLite file, or None: run the full command."""
    from tracker.config import load_settings
    from tracker.db.location import resolve_location
    from tracker.db.revisions import HEAD_REVISION
    from tracker.errors import TrackerError

    try:
        settings = load_settings()
        location = resolve_location(db, settings.db)
        now = settings.clock.now()
    except TrackerError:
        return None  # the full command says what is wrong
    path = location.sqlite_path
    if path is None or not os.path.isfile(path):
        return None
    try:
        # WAL readers wait only on a lock held exclusively (locking_mode, recovery): give
        # up soon and let the full command wait its busy timeout and say so, not wait twice.
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=FAST_BUSY_TIMEOUT_S)
    except (sqlite3.Error, UnicodeError):  # a path SQLite cannot take: the full command says
        return None
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision != (HEAD_REVISION,):
            return None  # an upgrade first: the full command does it
        learner = conn.execute(
            "SELECT id FROM learners WHERE name = ?", (settings.learner,)
        ).fetchone()
        if learner is None:
            return None
        return status_of(conn, learner_id=learner[0], now=now, settings=settings)
    except sqlite3.Error:
        return None  # locked, corrupt: the full command reports it
    finally:
        conn.close()
