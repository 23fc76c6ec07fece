"""Many tracker processes at once on one database (issue 15: concurrency).

Sixteen `tracker` processes released together (a gate file they wait on,
then ``exec``) on a database that does not exist yet: one creates the schema,
all exit 0, and the rows are exactly what the sixteen commands (``learn``,
``checkin``, ``remind --once``) asked for, the day's reminder told once (the
race simonw/llm#789 describes). SQLite, then PostgreSQL. The reminder daemon
with four writers: tests/test_concurrency_daemon.py.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.concurrency_support import Rows, base_env
from tracker.db.revisions import HEAD_REVISION

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = 16
# Eight readable lessons a new learner can study with --force; four check in, four remind.
LESSONS = (
    "transformer-1",
    "efficient-fine-tuning-1",
    "positional-encoding-1",
    "rlhf-1",
    "scaling-laws-1",
    "state-space-models-1",
    "alignment-1",
    "red-teaming-1",
)
TODAY = "2026-03-02T10:00:00+00:00"
NEW_DB = f"created a new tracker database (schema {HEAD_REVISION})"


def questions(lesson: str) -> int:
    with (ROOT / "lessons" / lesson / "lesson.toml").open("rb") as handle:
        return len(tomllib.load(handle)["questions"])


# --- 1: sixteen processes on a database that does not exist yet ------------------------------

GATE = (
    "import os, sys, time\n"
    "while not os.path.exists(sys.argv[1]): time.sleep(0.001)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'tracker', *sys.argv[2:]])\n"
)


def sixteen_at_once(folder: Path, db: str) -> None:
    (folder / "config.toml").write_text('timezone = "UTC"\nchannels = ["terminal"]\n')
    env = {**base_env(folder, db), "TRACKER_NOW": TODAY}
    gate = folder / "go"
    args = [["learn", lesson, "--yes", "--force"] for lesson in LESSONS]
    args += [["checkin"]] * 4 + [["remind", "--once"]] * 4
    started = [
        subprocess.Popen(
            [sys.executable, "-c", GATE, str(gate), *a],
            env=env,
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a in args
    ]
    time.sleep(0.5)  # all sixteen are waiting at the gate
    gate.touch()
    outputs = [p.communicate(timeout=180) for p in started]
    errors = [err for _out, err in outputs]
    assert [p.returncode for p in started] == [0] * PROCESSES, errors
    # One of them created the schema and said so; nobody else said anything.
    assert sorted(e.strip() for e in errors) == [""] * (PROCESSES - 1) + [NEW_DB], errors
    rows = Rows(db)
    try:
        assert rows.all("SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]
        assert rows.one("SELECT count(*) FROM learners") == 1
        assert rows.one("SELECT count(*) FROM lessons") == len(
            [p for p in (ROOT / "lessons").iterdir() if (p / "lesson.toml").exists()]
        )
        days = [str(day) for (day,) in rows.all("SELECT local_date FROM checkins")]
        assert days == [TODAY[:10]]
        assert sorted(rows.all("SELECT lesson_id, kind FROM study_sessions")) == sorted(
            (lesson, "study") for lesson in LESSONS
        )
        assert rows.one("SELECT count(*) FROM progress") == len(LESSONS)
        assert rows.one("SELECT count(*) FROM review_cards") == sum(map(questions, LESSONS))
        assert rows.one("SELECT count(*) FROM practice_attempts") == 0
        # The day's reminder: claimed once, and told at most once, by one of the four
        # (skipped when a check-in or a session made the day before it was due).
        deliveries = rows.all("SELECT kind, local_date, channel, status FROM deliveries")
        assert len(deliveries) == len({d[:3] for d in deliveries}) >= 1, deliveries
        assert {d[3] for d in deliveries} <= {"sent", "skipped"}, deliveries
        told = sum(out.count("via terminal: sent") for out, _err in outputs)
        assert told == len([d for d in deliveries if d[3] == "sent"]), deliveries
    finally:
        rows.close()


@pytest.mark.slow
def test_sixteen_processes_create_a_sqlite_database_together(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    sixteen_at_once(tmp_path, str(db))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.slow
@pytest.mark.postgres
def test_sixteen_processes_create_a_postgresql_database_together(
    tmp_path: Path, pg_url: str
) -> None:
    sixteen_at_once(tmp_path, pg_url)
