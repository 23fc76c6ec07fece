"""Ctrl-C at random moments (issue 9, item 6): exit 130, one line, nothing half-recorded.

Each test runs one command many times as a real subprocess, each time on a
fresh copy of the same database, and sends SIGINT to its process group after
a random delay (seeded: a failure names its seed and delay). Whatever the
moment, the command either finished first (its normal exit status) or exits
130 with exactly one line on stderr, never a traceback; and the database holds
only whole writes, each command's rows together or not at all:

- ``checkin``: at most one check-in for the day, and a database (even one the
  run was creating) that the next command uses and ``db check`` passes;
- ``learn --yes``: the study session, its progress row and its cards together;
- ``review``: each card's ``reps`` equals its review logs, and the logs are the
  ratings the session reported, or one more (committed just before the echo);
- cold ``submit`` of a right answer: a passed submission with its session,
  progress and cards, or none of them; never a failed attempt made by the
  interrupt; no worker process and no job directory left.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from signal_support import Run, rows, signal_run, wait_until_gone

from tracker.cli.review_session import INTERRUPTED_AT_PROMPT as PROMPT_MESSAGE
from tracker.interrupt import MESSAGE

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ROOT / "tests" / "submissions" / "attention-mechanism-1" / "correct_matmul.py"
NEW_DB_NOTICE = "created a new tracker database"
RATED = re.compile(r"card \d+ rated ")


def questions(lesson: str) -> int:
    with (ROOT / "lessons" / lesson / "lesson.toml").open("rb") as handle:
        return len(tomllib.load(handle)["questions"])


def make_template(folder: Path, *setup: list[str]) -> Path:
    """An initialised database (plus ``setup`` commands run on it), checkpointed to one file."""
    folder.mkdir(parents=True, exist_ok=True)
    env = env_for(folder)
    for args in (["init"], *setup):
        subprocess.run(
            [sys.executable, "-m", "tracker", *args],
            env=env,
            cwd=folder,
            check=True,
            capture_output=True,
        )
    db = folder / "tracker.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def env_for(folder: Path, **extra: str) -> dict[str, str]:
    config = folder / "config.toml"
    if not config.exists():
        config.write_text('timezone = "UTC"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        TRACKER_DB=str(folder / "tracker.db"),
        TRACKER_CONFIG=str(config),
        TMPDIR=str(folder / "tmp"),
        **extra,
    )
    (folder / "tmp").mkdir(exist_ok=True)
    return env


def fresh_copy(template: Path | None, folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if template is not None:
        shutil.copy(template, folder / "tracker.db")
        shutil.copy(template.with_name("config.toml"), folder / "config.toml")
    return folder / "tracker.db"


def assert_clean_exit(run: Run, normal: set[int], what: str, message: str = MESSAGE) -> None:
    assert "Traceback" not in run.stderr + run.stdout, what + run.stderr
    if run.returncode == 130:
        lines = [line for line in run.stderr_lines if not line.startswith(NEW_DB_NOTICE)]
        assert lines == [message], what + run.stderr
    else:
        assert run.returncode in normal, what + run.stderr
        assert run.signalled_after_s is None or run.returncode in normal, what


def fuzz(
    tmp_path: Path,
    runs: int,
    seed: int,
    one: Callable[[random.Random, Path, str], None],
) -> None:
    """``runs`` seeded runs of ``one``; FUZZ_SEED and FUZZ_RUNS hunt further (not in CI)."""
    seed = int(os.environ.get("FUZZ_SEED", seed))
    rng = random.Random(seed)
    for index in range(int(os.environ.get("FUZZ_RUNS", runs))):
        one(rng, tmp_path / f"run{index}", f"seed {seed} run {index}: ")


@pytest.mark.slow
def test_ctrl_c_during_checkin(tmp_path: Path) -> None:
    template = make_template(tmp_path / "template")

    def one(rng: random.Random, folder: Path, what: str) -> None:
        creating = rng.random() < 0.5  # half the runs create the database
        db = fresh_copy(None if creating else template, folder)
        delay = rng.uniform(0.02, 1.0 if creating else 0.6)
        run = signal_run(["checkin"], delay_s=delay, env=env_for(folder), cwd=folder)
        what += f"delay {delay:.3f}: "
        assert_clean_exit(run, {0}, what)
        assert rows(db, "SELECT count(*) FROM checkins") in ([], [(0,)], [(1,)]), what
        again = signal_run(["checkin"], delay_s=None, env=env_for(folder), cwd=folder)
        assert again.returncode == 0, what + again.stderr
        assert rows(db, "SELECT count(*) FROM checkins") == [(1,)], what
        check = signal_run(["db", "check"], delay_s=None, env=env_for(folder), cwd=folder)
        assert check.returncode == 0, what + check.stdout

    fuzz(tmp_path, runs=14, seed=6, one=one)


@pytest.mark.slow
def test_ctrl_c_during_learn(tmp_path: Path) -> None:
    template = make_template(tmp_path / "template")
    lesson = "transformer-1"

    def one(rng: random.Random, folder: Path, what: str) -> None:
        db = fresh_copy(template, folder)
        delay = rng.uniform(0.02, 0.8)
        run = signal_run(["learn", lesson, "--yes"], delay_s=delay, env=env_for(folder), cwd=folder)
        what += f"delay {delay:.3f}: "
        assert_clean_exit(run, {0}, what)
        sessions = rows(db, f"SELECT count(*) FROM study_sessions WHERE lesson_id = '{lesson}'")
        progress = rows(db, f"SELECT count(*) FROM progress WHERE lesson_id = '{lesson}'")
        cards = rows(db, f"SELECT count(*) FROM review_cards WHERE lesson_id = '{lesson}'")
        assert (sessions, progress, cards) in (
            ([(0,)], [(0,)], [(0,)]),
            ([(1,)], [(1,)], [(questions(lesson),)]),
        ), what
        if run.returncode == 0:
            assert sessions == [(1,)], what

    fuzz(tmp_path, runs=12, seed=8, one=one)


@pytest.mark.slow
def test_ctrl_c_during_an_interactive_review(tmp_path: Path) -> None:
    """Answers for some cards are typed, then the session waits at a prompt (or is busy)."""
    template = make_template(
        tmp_path / "template",
        ["learn", "transformer-1", "--yes"],
        ["learn", "scaling-laws-1", "--yes"],
    )
    # The cards were made today; the review runs decades later, when all are due.
    later = "2099-01-01T12:00:00+00:00"
    cards = rows(template, "SELECT count(*) FROM review_cards WHERE kind = 'question'")[0][0]
    assert cards >= 4

    def one(rng: random.Random, folder: Path, what: str) -> None:
        db = fresh_copy(template, folder)
        typed = rng.randrange(0, cards)
        delay = rng.uniform(0.02, 2.0)
        run = signal_run(
            ["review"],
            delay_s=delay,
            env=env_for(folder, TRACKER_NOW=later),
            cwd=folder,
            stdin_text="\n3\n" * typed,
        )
        what += f"delay {delay:.3f}, {typed} answers typed: "
        assert "Traceback" not in run.stderr + run.stdout, what + run.stderr
        assert run.returncode == 130, what + run.stderr  # the session never ends on its own
        assert run.stderr_lines in ([MESSAGE], [PROMPT_MESSAGE]), what + run.stderr
        reported = len(RATED.findall(run.stdout))
        logs = rows(db, "SELECT count(*) FROM review_logs")[0][0]
        assert reported <= logs <= min(reported + 1, typed), what + run.stdout
        assert (
            rows(
                db,
                "SELECT c.id FROM review_cards c LEFT JOIN review_logs l ON l.card_id = c.id "
                "GROUP BY c.id HAVING count(l.id) != c.reps",
            )
            == []
        ), what
        if run.stderr_lines == [PROMPT_MESSAGE]:  # stopped at a prompt: the summary was shown
            assert logs == reported, what
            assert f"Rated {reported} of {cards}." in run.stdout, what + run.stdout

    fuzz(tmp_path, runs=12, seed=10, one=one)


@pytest.mark.slow
@pytest.mark.parametrize("typed", [0, 2])
def test_ctrl_c_at_a_review_prompt_stops_the_session_keeping_the_ratings(
    tmp_path: Path, typed: int
) -> None:
    db = make_template(tmp_path, ["learn", "transformer-1", "--yes"])
    cards = questions("transformer-1")

    def waiting(out: str) -> bool:  # rated ``typed`` cards, and asked for the next
        return len(RATED.findall(out)) == typed and out.count("Show the answer") == typed + 1

    run = signal_run(
        ["review"],
        delay_s=0.0,
        env=env_for(tmp_path, TRACKER_NOW="2099-01-01T12:00:00+00:00"),
        cwd=tmp_path,
        stdin_text="\n3\n" * typed,
        ready=waiting,
    )
    assert run.returncode == 130, run.stderr
    assert run.stderr_lines == [PROMPT_MESSAGE]
    assert run.stdout.rstrip().endswith(
        f"Stopped; every rating so far is saved.\nRated {typed} of {cards}. "
        f"{cards - typed} still due: run `tracker review` again."
    ), run.stdout
    assert rows(db, "SELECT count(*) FROM review_logs") == [(typed,)]


@pytest.mark.slow
def test_ctrl_c_at_learns_question_records_nothing(tmp_path: Path) -> None:
    db = make_template(tmp_path)
    run = signal_run(
        ["learn", "transformer-1"],
        delay_s=0.0,
        env=env_for(tmp_path),
        cwd=tmp_path,
        stdin_text="",
        ready=lambda out: "Record this study session" in out,
    )
    assert run.returncode == 130, run.stderr
    assert run.stderr_lines == [MESSAGE]
    assert run.stdout.rstrip().endswith("Not recorded."), run.stdout
    assert rows(db, "SELECT count(*) FROM study_sessions") == [(0,)]


@pytest.mark.slow
def test_ctrl_c_during_a_cold_submit(tmp_path: Path) -> None:
    template = make_template(tmp_path / "template")
    lesson = "attention-mechanism-1"

    def one(rng: random.Random, folder: Path, what: str) -> None:
        db = fresh_copy(template, folder)
        delay = rng.uniform(0.02, 2.0)
        run = signal_run(
            ["submit", lesson, str(CORRECT)], delay_s=delay, env=env_for(folder), cwd=folder
        )
        what += f"delay {delay:.3f}: "
        assert_clean_exit(run, {0}, what)
        submissions = rows(db, "SELECT passed FROM submissions")
        sessions = rows(db, "SELECT count(*) FROM study_sessions WHERE submission_id IS NOT NULL")
        progress = rows(db, f"SELECT count(*) FROM progress WHERE lesson_id = '{lesson}'")
        cards = rows(db, f"SELECT count(*) FROM review_cards WHERE lesson_id = '{lesson}'")
        assert (submissions, sessions, progress) in (
            ([], [(0,)], [(0,)]),
            ([(1,)], [(1,)], [(1,)]),
        ), what
        assert (cards == [(0,)]) == (submissions == []), what
        if run.returncode == 0:
            assert submissions == [(1,)], what
        assert wait_until_gone(str(folder)) == [], what
        assert list((folder / "tmp").glob("tracker-jobs-*/*")) == [], what

    fuzz(tmp_path, runs=8, seed=12, one=one)


def test_the_handlers_are_in_place_before_anything_else_loads(tmp_path: Path) -> None:
    """A Ctrl-C before tracker's handlers is Python's (a traceback): that window is kept short.

    ``tracker.interrupt`` loads nothing the interpreter has not (``__future__``
    aside), and ``python -m tracker`` installs it before the CLI package.
    """
    code = (
        "import sys; before = set(sys.modules); import tracker.interrupt; "
        "print(sorted(set(sys.modules) - before))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert loaded.stdout.split() == ["['__future__',", "'tracker',", "'tracker.interrupt']"]
    timeline = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tracker", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    order = [line.rsplit("|", 1)[1].strip() for line in timeline.stderr.splitlines()[1:]]
    assert order.index("tracker.interrupt") < order.index("tracker.cli")
    assert order[order.index("tracker") + 1 : order.index("tracker.interrupt")] == ["__future__"]
