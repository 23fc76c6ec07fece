"""Migration 0004 repairs the records earlier revisions inflated.

A database is built at revision 0003 by the migrations and filled the way the
code of that revision recorded things: every re-submit of a passed lesson a new
study session, and a failed then passed `submit --review` two ratings of one
code card on one day. After the upgrade each lesson is one session (the rest
are practice attempts), the day's code ratings are one entry (Again upgraded
to Hard, as README promised), the extra entry is kept in retracted_reviews,
and the card's schedule is replayed from what is left.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tracker.db.engine import create_engine_for, resolve_location
from tracker.db.schema import HEAD_REVISION, upgrade_schema
from tracker.store import open_store

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _seed_inflated_at_0003(url_or_path: str) -> None:
    location = resolve_location(url_or_path)
    upgrade_schema(location, None, target="0003", now=NOW)
    engine = create_engine_for(location)
    statements = [
        "INSERT INTO concepts (id, title, category, target_depth, summary, position, retired)"
        " VALUES ('attention-mechanism', 'Attention', 'architecture', 2, '', 0, false)",
        "INSERT INTO lessons (id, concept_id, depth, title, has_exercise, questions_json,"
        " content_sha256, position, retired) VALUES ('attention-mechanism-1',"
        " 'attention-mechanism', 1, 'Attention', true, '[]', 'x', 0, false)",
    ]
    # Three passes of one lesson on two days: one session, two practice attempts to be.
    for number, day in enumerate(("2026-11-02", "2026-11-02", "2026-11-03"), start=1):
        statements += [
            "INSERT INTO submissions (id, learner_id, lesson_id, submitted_at, local_date,"
            " code_sha256, passed, for_review, device, isolation, duration_s, verdict_json)"
            f" VALUES ({number}, 1, 'attention-mechanism-1', '{day} 1{number}:00:00', '{day}',"
            " 'h', true, false, 'cpu', 'none', 1.0, '{}')",
            "INSERT INTO study_sessions (id, learner_id, lesson_id, concept_id, depth, kind,"
            " completed_at, local_date, submission_id) VALUES"
            f" ({number}, 1, 'attention-mechanism-1', 'attention-mechanism', 1, 'submission',"
            f" '{day} 1{number}:00:00', '{day}', {number})",
        ]
    statements += [
        "INSERT INTO progress (learner_id, concept_id, lesson_id, depth, achieved_at,"
        " session_id, submission_id) VALUES (1, 'attention-mechanism', 'attention-mechanism-1',"
        " 1, '2026-11-02 11:00:00', 1, 1)",
        "INSERT INTO review_cards (id, learner_id, lesson_id, concept_id, kind, question_index,"
        " state, step, stability, difficulty, due, last_review, reps, lapses, suspended,"
        " created_at) VALUES (1, 1, 'attention-mechanism-1', 'attention-mechanism', 'code', 0,"
        " 2, NULL, 1.0, 5.0, '2026-11-20 10:00:00', '2026-11-05 10:30:00', 2, 0, false,"
        " '2026-11-02 11:00:00')",
        # A failed and then a passed review submission on 2026-11-05: Again, then Hard.
        "INSERT INTO review_logs (id, card_id, learner_id, rating, reviewed_at, local_date)"
        " VALUES (1, 1, 1, 1, '2026-11-05 10:00:00', '2026-11-05')",
        "INSERT INTO review_logs (id, card_id, learner_id, rating, reviewed_at, local_date)"
        " VALUES (2, 1, 1, 2, '2026-11-05 10:30:00', '2026-11-05')",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
        if conn.dialect.name == "postgresql":  # explicit ids leave the sequences behind
            for table in ("submissions", "study_sessions", "review_cards", "review_logs"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    engine.dispose()


def _rows(store, sql: str) -> list[tuple]:  # noqa: ANN001
    with store.read() as session:
        return [tuple(row) for row in session.execute(text(sql))]


def _check_repaired(store) -> None:  # noqa: ANN001
    assert _rows(store, "SELECT id, local_date FROM study_sessions ORDER BY id") == [
        (1, _day(store, "2026-11-02"))
    ]
    practice = _rows(
        store, "SELECT kind, submission_id FROM practice_attempts ORDER BY submission_id"
    )
    assert practice == [("submission", 2), ("submission", 3)]
    assert _rows(store, "SELECT id, rating FROM review_logs") == [(1, 2)]
    assert _rows(store, "SELECT log_id, rating, reason, replaced_by FROM retracted_reviews") == [
        (2, 2, "merged", 1)
    ]
    reps, lapses, due = _rows(store, "SELECT reps, lapses, due FROM review_cards")[0]
    assert (reps, lapses) == (1, 0)
    assert "2026-11-20" not in str(due)  # replayed from the ledger, not the stale cache


def _day(store, iso: str) -> object:  # noqa: ANN001
    return iso if store.location.is_sqlite else datetime.fromisoformat(iso).date()


def test_inflated_records_are_repaired_on_sqlite(db_path: Path) -> None:
    _seed_inflated_at_0003(str(db_path))
    store = open_store()
    try:
        assert f"upgraded database schema 0003 -> {HEAD_REVISION}" in store.notices[0]
        _check_repaired(store)
        # The check-in counts one session; history shows the practice.
        from tracker.usecases.checkin import checkin
        from tracker.usecases.history import history

        document = checkin(store, learner_id=1, now=NOW)
        assert document.sessions_completed == 1
        kinds = [e.kind for e in history(store, learner_id=1).events]
        assert kinds.count("practice") == 2 and kinds.count("submission") == 1
    finally:
        store.close()
    backup = next((db_path.parent / "backups").glob("tracker.*.schema-0003.db"))
    with sqlite3.connect(backup) as conn:  # the copy taken before keeps the old records
        assert conn.execute("SELECT count(*) FROM study_sessions").fetchone() == (3,)


@pytest.mark.postgres
def test_inflated_records_are_repaired_on_postgresql(pg_url: str) -> None:
    _seed_inflated_at_0003(pg_url)
    store = open_store(pg_url)
    try:
        _check_repaired(store)
    finally:
        store.close()
