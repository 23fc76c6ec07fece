"""Write tests/data/migrations/NNNN.sql: one learner's data as each earlier schema holds it.

A learner's few weeks are recorded with the tracker's own use cases on a
database at head (study sessions, a passed exercise with its submission, a
practice pass, ratings over several days, an undone rating, check-ins, an
imported session, fitted parameters). For every earlier revision a database
is created by the migrations up to that revision, and the rows are written
out as INSERT statements for the tables and columns that revision has, and
only the kinds of rows its code could write (no imported sessions before
0005, no practice or retracted ratings before 0004: their tables do not
exist). tests/test_migration_history.py loads each file into a database at
its revision and upgrades it.

    .venv/bin/python scripts/make_migration_fixtures.py      # rewrites the files

The output is deterministic (fixed instants, seeded fuzz), so running it
again changes nothing unless the data or the schema changed.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "migrations"
START = datetime(2026, 10, 5, 9, tzinfo=UTC)
LESSONS = ("transformer-1", "attention-mechanism-1")
# Parents first, so the statements load with foreign keys on.
TABLES = (
    "learners",
    "settings",
    "concepts",
    "lessons",
    "lesson_prerequisites",
    "submissions",
    "study_sessions",
    "progress",
    "practice_attempts",
    "review_cards",
    "review_logs",
    "retracted_reviews",
    "checkins",
)


def record_history(db: Path) -> None:
    """A learner's weeks, through the use cases (the head's code)."""
    from sqlalchemy import select

    from tracker.db.models import Lesson, ReviewCard, Setting, Submission
    from tracker.progress import record_passed_lesson
    from tracker.store import open_store
    from tracker.usecases.checkin import checkin, learn
    from tracker.usecases.reviews import rate, undo

    store = open_store(str(db), now=START)
    me = store.learner_id
    checkin(store, learner_id=me, now=START)
    learn(store, learner_id=me, now=START + timedelta(minutes=5), lesson_id="transformer-1")
    passed_at = START + timedelta(days=1)
    with store.write() as session:  # a passed submission, as `tracker submit` records it
        submission = Submission(
            learner_id=me,
            lesson_id="attention-mechanism-1",
            submitted_at=passed_at,
            local_date=passed_at.date(),
            code_sha256="0" * 64,
            passed=True,
            for_review=False,
            device="cpu",
            isolation="bubblewrap",
            duration_s=1.5,
            verdict_json='{"checks": []}',
        )
        session.add(submission)
        session.flush()
        record_passed_lesson(
            session,
            learner_id=me,
            lesson=session.get(Lesson, "attention-mechanism-1"),
            kind="submission",
            completed_at=passed_at,
            local_date=passed_at.date(),
            submission_id=submission.id,
        )
        session.add(
            Setting(learner_id=me, key="note", value='{"fixture": true}', updated_at=passed_at)
        )
    learn(store, learner_id=me, now=passed_at + timedelta(hours=2), lesson_id="transformer-1")
    with store.read() as session:
        cards = list(
            session.scalars(
                select(ReviewCard.id).where(ReviewCard.kind == "question").order_by(ReviewCard.id)
            )
        )
    for day, rating in ((2, "good"), (5, "hard"), (11, "good"), (24, "again")):
        at = START + timedelta(days=day, hours=1)
        checkin(store, learner_id=me, now=at)
        for card in cards:
            rate(store, learner_id=me, now=at, card_id=card, rating=rating)
    undo(store, learner_id=me, now=START + timedelta(days=24, hours=2))
    with store.write() as session:  # an imported session (`tracker import posts`)
        from tracker.db.models import StudySession

        at = START - timedelta(days=30)
        session.add(
            StudySession(
                learner_id=me,
                lesson_id=None,
                concept_id="transformer",
                depth=1,
                kind="import",
                completed_at=at,
                local_date=at.date(),
                source="journal/2026-09-05.md",
            )
        )
    store.close()
    with sqlite3.connect(db) as conn:  # migration 0001 made the learner with the wall clock
        stamp = START.strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute("UPDATE learners SET created_at = ?", (stamp,))


def literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    return "'" + str(value).replace("'", "''") + "'"


def columns_at(revision: str, scratch: Path) -> dict[str, list[str]]:
    from tracker.db.engine import resolve_location
    from tracker.db.schema import upgrade_schema

    db = scratch / f"at-{revision}.db"
    upgrade_schema(resolve_location(str(db)), None, target=revision, now=START)
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: [c[1] for c in conn.execute(f'PRAGMA table_info("{t}")')] for t in tables}


def fixture(head: Path, revision: str, columns: dict[str, list[str]]) -> str:
    lines = [
        f"-- A learner's data as schema {revision} holds it; written by",
        "-- scripts/make_migration_fixtures.py (do not edit by hand).",
    ]
    keep = {
        "concepts": "id IN (SELECT concept_id FROM lessons WHERE id IN ({lessons}))",
        "lessons": "id IN ({lessons})",
        "lesson_prerequisites": "lesson_id IN ({lessons})",
        "study_sessions": "kind != 'import'" if revision < "0005" else "1",
    }
    lessons = ", ".join(literal(lesson) for lesson in LESSONS)
    with sqlite3.connect(head) as conn:
        for table in TABLES:
            if table not in columns:
                continue
            names = columns[table]
            where = keep.get(table, "1").format(lessons=lessons)
            quoted = ", ".join(f'"{n}"' for n in names)
            query = f'SELECT {quoted} FROM "{table}" WHERE {where} ORDER BY rowid'
            for row in conn.execute(query):
                values = ", ".join(literal(v) for v in row)
                # migration 0001 makes learner 1 itself: the fixture's row replaces it
                verb = "INSERT OR REPLACE" if table == "learners" else "INSERT"
                lines.append(f"{verb} INTO {table} ({', '.join(names)}) VALUES ({values});")
    return "\n".join(lines) + "\n"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ["TRACKER_NOW"] = START.isoformat()  # what the store itself dates (the learner)
    from tracker.db.revisions import REVISIONS

    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        config = scratch_path / "config.toml"
        config.write_text('timezone = "UTC"\n', encoding="utf-8")
        os.environ["TRACKER_CONFIG"] = str(config)
        head = scratch_path / "head.db"
        record_history(head)
        OUT.mkdir(parents=True, exist_ok=True)
        for revision in REVISIONS[:-1]:
            text = fixture(head, revision, columns_at(revision, scratch_path))
            (OUT / f"{revision}.sql").write_text(text, encoding="utf-8")
            print(f"{OUT / f'{revision}.sql'}: {text.count('INSERT')} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
