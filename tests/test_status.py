"""`tracker status`: one line for a prompt, the same answer fast (sqlite3 alone) and full."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from review_support import pass_lessons

from tracker.usecases.status import fast_status, status

NOW = datetime(2025, 11, 11, 9, 0, tzinfo=UTC)
TRACKER = [sys.executable, "-m", "tracker"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*TRACKER, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def test_status_of_a_fresh_learner(store) -> None:  # noqa: ANN001
    document = status(store, learner_id=store.learner_id, now=NOW)
    assert document.as_dict() == {
        "date": "2025-11-11",
        "due_reviews": 0,
        "due_code_cards": 0,
        "streak_days": 0,
        "checked_in_today": False,
        "focus": {"lesson": "attention-mechanism-1", "concept": "attention-mechanism", "depth": 1},
    }


def test_status_counts_what_the_checkin_counts(store) -> None:  # noqa: ANN001
    from tracker.usecases.checkin import checkin

    pass_lessons(store, ("attention-mechanism-1", "2025-11-10T10:00"))
    checked = checkin(store, learner_id=store.learner_id, now=NOW)
    document = status(store, learner_id=store.learner_id, now=NOW)
    assert document.due_reviews == checked.due_reviews > 0
    assert document.due_code_cards == len(checked.due_code_cards) == 1
    assert document.streak_days == checked.streak_days == 2
    assert document.checked_in_today is True
    assert checked.focus is not None and document.focus is not None
    assert document.focus[0] == checked.focus.lesson


def test_the_fast_path_answers_as_the_full_command(
    store,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    pass_lessons(store, ("attention-mechanism-1", "2025-11-10T10:00"))
    monkeypatch.setenv("TRACKER_NOW", "2025-11-11T09:00")
    fast = fast_status(None)
    assert fast is not None
    assert fast == status(store, learner_id=store.learner_id, now=NOW)
    line = run("status", env={"TRACKER_NOW": "2025-11-11T09:00"})
    assert line.returncode == 0, line.stderr
    assert line.stdout == (
        "4 due · 1 code card · streak 1 (not checked in today) · today: multi-head-attention-1\n"
    )
    as_json = json.loads(run("status", "--json", env={"TRACKER_NOW": "2025-11-11T09:00"}).stdout)
    assert as_json == fast.as_dict()


def test_the_fast_path_loads_nothing_heavy(store, tracker_env: Path) -> None:  # noqa: ANN001
    code = (
        "import sys\n"
        "sys.argv = ['tracker', 'status']\n"
        "import tracker.cli.entry as entry\n"
        "def stop(code):\n"
        "    raise SystemExit(code)\n"
        "entry._exit = stop\n"
        "try:\n"
        "    entry.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "names = ('sqlalchemy', 'click', 'torch', 'fsrs', 'alembic')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in done.stderr, done.stderr
    assert "streak" in done.stdout


def test_anything_unusual_goes_to_the_full_command(tracker_env: Path) -> None:
    # No database yet: the full command creates it, then answers.
    first = run("status")
    assert first.returncode == 0
    assert "created a new tracker database" in first.stderr
    assert first.stdout.startswith("nothing due · streak 0 (not checked in today)")
    assert fast_status(str(tracker_env / "missing.db")) is None
    assert run("status", "--verbose").returncode == 2  # not ours: click answers
