"""Benchmark databases: a private environment per database, and the histories put in them.

Each database gets its own config file and ``TRACKER_*`` variables; seeding runs
in this process under those variables (``environment``) and puts them back after,
so one benchmark's database never leaks into the next. ``write_history`` bulk-inserts
a learner's years of check-ins, sessions, cards and review logs with SQLAlchemy
Core: the ledger's shape, not the scheduler's exact intervals (an interval grows
2.2x on a pass and starts again at a day on Again).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path

from benchmarks.harness import Process, tracker_command


def tracker_env(
    tmp: Path, name: str, *, config: str = 'timezone = "UTC"\n', now: str | None = None
) -> dict[str, str]:
    """TRACKER_DB, TRACKER_CONFIG (and TRACKER_NOW) for database ``name`` under ``tmp``.

    Bytecode goes to a private cache, as an installed package has it, even where
    PYTHONDONTWRITEBYTECODE is set.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    config_path = tmp / f"{name}.toml"
    config_path.write_text(config, encoding="utf-8")
    env = {
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": str(tmp / "pyc"),
        "TRACKER_DB": str(tmp / f"{name}.db"),
        "TRACKER_CONFIG": str(config_path),
    }
    if now:
        env["TRACKER_NOW"] = now
    return env


def init(env: Mapping[str, str]) -> None:
    """`tracker init`: the schema and the curriculum, so timed runs are the daily case."""
    Process(tracker_command("init"), env)()


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def write_history(env: Mapping[str, str], *, days: int, now: str, seed: int = 5) -> dict[str, int]:
    """A learner's ``days`` of daily history ending at ``now``; returns the row counts."""
    with environment(env):
        return _write_history(days=days, now=now, seed=seed)


def _write_history(*, days: int, now: str, seed: int) -> dict[str, int]:
    from sqlalchemy import select

    from tracker.clock import parse_instant
    from tracker.db.models import Checkin, Lesson, Progress, ReviewCard, ReviewLog, StudySession
    from tracker.store import open_store

    rng = random.Random(seed)
    store = open_store()
    clock = store.clock
    end = parse_instant(now, clock.tz)
    start = end - timedelta(days=days)
    with store.read() as session:
        lessons = session.execute(select(Lesson.id, Lesson.concept_id, Lesson.depth)).all()
    learner = store.learner_id
    sessions, checkins, cards, logs = [], [], [], []
    card_id = 0
    for day in range(days + 1):  # the last is the day of ``now``
        # Local 09:00-17:59 on each calendar day: inside one learner-day across DST changes.
        base = datetime.combine(start.astimezone(clock.tz).date() + timedelta(days=day), time(9))
        at = base.replace(tzinfo=clock.tz) + timedelta(
            hours=rng.randrange(9), minutes=rng.randrange(60)
        )
        if at >= end:
            at = end - timedelta(minutes=1)
        local = clock.local_day(at)
        if rng.random() < 0.9 and day < days:  # today's check-in is the timed command's
            checkins.append({"learner_id": learner, "local_date": local, "checked_in_at": at})
        for lesson, concept, depth in rng.sample(lessons, 1 + (rng.random() < 0.1)):
            sessions.append(
                {
                    "learner_id": learner,
                    "lesson_id": lesson,
                    "concept_id": concept,
                    "depth": depth,
                    "kind": rng.choice(("study", "submission", "import")),
                    "completed_at": at,
                    "local_date": local,
                }
            )
        for _ in range(4 + (rng.random() < 0.4)):
            card_id += 1
            lesson, concept, _depth = rng.choice(lessons)
            review_at, interval, last, reps = at, 1.0, None, 0
            while review_at < end:
                rating = 1 if rng.random() < 0.12 else rng.choice((2, 3, 3, 3, 4))
                logs.append(
                    {
                        "card_id": card_id,
                        "learner_id": learner,
                        "rating": rating,
                        "reviewed_at": review_at,
                        "local_date": clock.local_day(review_at),
                    }
                )
                interval = 1.0 if rating == 1 else interval * 2.2
                last, reps = review_at, reps + 1
                review_at = review_at + timedelta(days=round(interval), minutes=rng.randrange(90))
            cards.append(
                {
                    "id": card_id,
                    "learner_id": learner,
                    "lesson_id": lesson,
                    "concept_id": concept,
                    "kind": "question",
                    "question_index": 1000 + card_id,
                    "state": 2,
                    "step": None,
                    "stability": interval,
                    "difficulty": 5.0,
                    "due": review_at,
                    "last_review": last,
                    "reps": reps,
                    "lapses": 0,
                    "suspended": False,
                    "created_at": at,
                }
            )
    step = max(1, days // max(1, len(lessons)))
    progress = [
        {
            "learner_id": learner,
            "concept_id": concept,
            "lesson_id": lesson,
            "depth": depth,
            "achieved_at": start + timedelta(days=min(days, i * step), hours=1),
        }
        for i, (lesson, concept, depth) in enumerate(lessons)
    ]
    with store.write() as session:
        session.execute(StudySession.__table__.insert(), sessions)
        if checkins:
            session.execute(Checkin.__table__.insert(), checkins)
        session.execute(Progress.__table__.insert(), progress)
        session.execute(ReviewCard.__table__.insert(), cards)
        if logs:
            session.execute(ReviewLog.__table__.insert(), logs)
    store.close()
    return {
        "days": days,
        "sessions": len(sessions),
        "reviews": len(logs),
        "cards": len(cards),
        "checkins": len(checkins),
    }
