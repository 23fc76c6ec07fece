"""SIGKILL at random moments while use cases write (issue 15: crash safety).

SQLite's own crash tests are the model: a child process (tests/crash_child.py)
runs check-ins, reviews, ``learn``, ``import posts`` and cold ``submit`` in a
loop on one database and is killed with SIGKILL after a random delay, again
and again on the same file (the first run creates it). Each commit the child
makes is noted in a side file after it returns. After every kill:

- ``PRAGMA integrity_check`` is ok and ``foreign_key_check`` finds nothing;
- no use case is half-recorded (``half_recorded``: what must appear together);
- every write the child noted is in the database (``lost``).

``CRASH_KILLS`` (default 110) and ``CRASH_SEED`` hunt further; a failure names
the seed, the run and the delay.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from signal_support import wait_until_gone

ROOT = Path(__file__).resolve().parents[1]
CHILD = ROOT / "tests" / "crash_child.py"
CREATION_KILLS = 30
SUBMIT_EVERY = 12

# What must appear together, per use case: each query lists what breaks it (empty is whole).
HALF_RECORDED = {
    # learn, a first-pass submit, an imported session: the session, its progress, its cards.
    "session without progress": (
        "SELECT s.id, s.kind, s.lesson_id FROM study_sessions s LEFT JOIN progress p "
        "ON p.learner_id = s.learner_id AND p.lesson_id = s.lesson_id "
        "WHERE s.lesson_id IS NOT NULL AND p.id IS NULL"
    ),
    "progress without its session": (
        "SELECT p.id, p.lesson_id FROM progress p LEFT JOIN study_sessions s "
        "ON s.id = p.session_id WHERE s.id IS NULL"
    ),
    "progress without all its cards": (
        "SELECT p.lesson_id, count(c.id), json_array_length(l.questions_json) + l.has_exercise "
        "FROM progress p JOIN lessons l ON l.id = p.lesson_id "
        "LEFT JOIN review_cards c ON c.learner_id = p.learner_id AND c.lesson_id = p.lesson_id "
        "GROUP BY p.id HAVING count(c.id) != json_array_length(l.questions_json) + l.has_exercise"
    ),
    "cards without progress": (
        "SELECT DISTINCT c.lesson_id FROM review_cards c LEFT JOIN progress p "
        "ON p.learner_id = c.learner_id AND p.lesson_id = c.lesson_id WHERE p.id IS NULL"
    ),
    # submit: a passed submission is a first pass (session) or practice, exactly one;
    # a failed one is neither.
    "submission without what it earned": (
        "SELECT u.id, u.passed, "
        "(SELECT count(*) FROM study_sessions s WHERE s.submission_id = u.id) "
        "+ (SELECT count(*) FROM practice_attempts a WHERE a.submission_id = u.id) AS earned "
        "FROM submissions u WHERE earned != (CASE WHEN u.passed AND NOT u.for_review "
        "THEN 1 ELSE 0 END)"
    ),
    "submission session without its submission": (
        "SELECT s.id FROM study_sessions s LEFT JOIN submissions u ON u.id = s.submission_id "
        "WHERE s.kind = 'submission' AND (u.id IS NULL OR NOT u.passed)"
    ),
    # review: the card's schedule and its log move together.
    "card whose reps disagree with its log": (
        "SELECT c.id, c.reps, count(l.id) FROM review_cards c "
        "LEFT JOIN review_logs l ON l.card_id = c.id GROUP BY c.id HAVING count(l.id) != c.reps"
    ),
    "card whose last review is not its log's": (
        "SELECT c.id, c.last_review, max(l.reviewed_at) FROM review_cards c "
        "JOIN review_logs l ON l.card_id = c.id GROUP BY c.id "
        "HAVING c.last_review IS NOT max(l.reviewed_at)"
    ),
    "rating replaced by nothing": (
        "SELECT r.id, r.replaced_by FROM retracted_reviews r WHERE r.reason = 'replaced' AND "
        "r.replaced_by NOT IN (SELECT id FROM review_logs "
        "UNION SELECT log_id FROM retracted_reviews)"
    ),
    # checkin: one per learner-day.
    "two check-ins on one day": (
        "SELECT learner_id, local_date FROM checkins GROUP BY learner_id, local_date "
        "HAVING count(*) > 1"
    ),
}


def query(conn: sqlite3.Connection, sql: str, *args: object) -> list[tuple]:
    return conn.execute(sql, args).fetchall()


def half_recorded(conn: sqlite3.Connection, posts: Path) -> dict[str, list]:
    broken = {name: rows for name, sql in HALF_RECORDED.items() if (rows := query(conn, sql))}
    # import: a post whose transaction committed (a session carries its name) left every
    # session it names (its own or one an earlier post had made).
    for expected in sorted(posts.glob("*.md.json")) if posts.exists() else []:
        name = expected.name.removesuffix(".json")
        if not query(conn, "SELECT 1 FROM study_sessions WHERE source = ?", name):
            continue
        for learner, day, concept, depth in json.loads(expected.read_text()):
            if not import_session(conn, learner, day, concept, depth):
                broken.setdefault("post imported in part", []).append((name, day, concept))
    return broken


def import_session(
    conn: sqlite3.Connection, learner: int, day: str, concept: str, depth: int
) -> bool:
    return bool(
        query(
            conn,
            "SELECT 1 FROM study_sessions WHERE kind = 'import' AND learner_id = ? "
            "AND local_date = ? AND concept_id = ? AND depth = ?",
            learner,
            day,
            concept,
            depth,
        )
    )


def lost(conn: sqlite3.Connection, entry: dict) -> bool:
    """Whether a write the child noted as committed is missing."""
    op = entry["op"]
    if op == "checkin":
        return not query(
            conn,
            "SELECT 1 FROM checkins WHERE learner_id = ? AND local_date = ?",
            entry["learner"],
            entry["date"],
        )
    if op == "learn":
        table = "study_sessions" if entry["first"] else "practice_attempts"
        return not query(
            conn,
            f"SELECT 1 FROM {table} WHERE kind = 'study' AND learner_id = ? AND lesson_id = ? "
            "AND local_date = ?",
            entry["learner"],
            entry["lesson"],
            entry["date"],
        )
    if op == "review":  # in the ledger, or taken out of it by a later rating that day
        return not query(
            conn,
            "SELECT 1 FROM review_logs WHERE id = ? AND card_id = ? "
            "UNION SELECT 1 FROM retracted_reviews WHERE log_id = ? AND card_id = ?",
            entry["log"],
            entry["card"],
            entry["log"],
            entry["card"],
        )
    if op == "import":
        return not all(import_session(conn, *key) for key in entry["sessions"])
    if op == "submit":
        rows = query(
            conn,
            "SELECT passed FROM submissions WHERE learner_id = ? AND request_id = ?",
            entry["learner"],
            entry["request"],
        )
        return rows != [(int(entry["passed"]),)]
    raise AssertionError(f"unknown entry {entry}")


def schema_made(conn: sqlite3.Connection) -> bool:
    """The schema creation committed (one transaction: all the tables and the revision)."""
    names = {row[0] for row in query(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "alembic_version" not in names:
        assert names <= {"sqlite_sequence"}, names  # nothing half-created either
        return False
    return True


def committed(journal: Path) -> list[dict]:
    """The child's notes; a line cut by the kill is no note."""
    if not journal.exists():
        return []
    lines = journal.read_text().split("\n")
    return [json.loads(line) for line in lines[:-1] if line]


class Zygote:
    """tests/crash_child.py: forks a child per run and reaps it."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=folder,
            text=True,
        )
        assert self.ask("") == "ready"

    def ask(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        if line:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def child_env(folder: Path, **extra: str) -> dict[str, str]:
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text('timezone = "UTC"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        TRACKER_DB=str(folder / "tracker.db"),
        TRACKER_CONFIG=str(config),
        TMPDIR=str(folder / "tmp"),
        **extra,
    )
    return env


def describe(pids: list[int]) -> str:
    """What each process left behind is: its command line and parent."""
    lines = []
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = Path(f"/proc/{pid}/status").read_text()
            parent = next(x for x in status.splitlines() if x.startswith("PPid:"))
        except OSError:
            continue
        lines.append(f"{pid} ({parent}): {cmdline[:300]}")
    return "\n".join(lines)


def kill_delay(rng: random.Random) -> float:
    """Within a run's first moments: its writes (a submit started then is cut short)."""
    return rng.uniform(0.01, 0.8)


def wait_for_submit(journal: Path, before: int, timeout_s: float = 120) -> None:
    """Until the child noted a submit after the first ``before`` notes (it takes seconds)."""
    deadline = time.monotonic() + timeout_s
    while not any(e["op"] == "submit" for e in committed(journal)[before:]):
        assert time.monotonic() < deadline, "no submit was recorded"
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_committed_write(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", 15))
    kills_wanted = int(os.environ.get("CRASH_KILLS", 110))
    rng = random.Random(seed)
    folder = tmp_path / "crash"
    folder.mkdir()
    db, journal, posts = folder / "tracker.db", folder / "committed.log", folder / "posts"
    zygote = Zygote(folder, child_env(folder))
    kills = finished = checked = 0
    ops: dict[str, int] = {}
    try:
        for run in range(kills_wanted * 2):
            if kills >= kills_wanted:
                break
            # Every SUBMIT_EVERY-th run starts with a submit and dies just after it recorded.
            after_submit = run % SUBMIT_EVERY == SUBMIT_EVERY // 2
            delay = rng.uniform(0.0, 0.3) if after_submit else kill_delay(rng)
            what = f"seed {seed} run {run} delay {delay:.3f}: "
            first = " first=submit" if after_submit else ""
            pid = int(zygote.ask(f"run {run} {rng.randrange(1 << 30)}{first}"))
            if after_submit:
                wait_for_submit(journal, len(committed(journal)))
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            status = int(zygote.ask(f"wait {pid}"))
            errors = folder / "child-errors.log"
            assert not errors.exists(), what + errors.read_text()
            if os.WIFSIGNALED(status):
                assert os.WTERMSIG(status) == signal.SIGKILL, what
                kills += 1
            else:
                assert os.waitstatus_to_exitcode(status) == 0, what
                finished += 1
            # The sandboxed workers of a killed submit go with it.
            left = wait_until_gone(str(folder / "tmp"))
            assert left == [], what + describe(left)
            conn = sqlite3.connect(db)
            try:
                assert query(conn, "PRAGMA integrity_check") == [("ok",)], what
                assert query(conn, "PRAGMA foreign_key_check") == [], what
                if not schema_made(conn):  # killed while creating it: the next run does
                    assert committed(journal) == [], what
                    continue
                assert half_recorded(conn, posts) == {}, what
                entries = committed(journal)
                missing = [e for e in entries[checked:] if lost(conn, e)]
                assert missing == [], what
                checked = len(entries)
            finally:
                conn.close()
        assert kills >= kills_wanted, (kills, finished)
        conn = sqlite3.connect(db)
        try:
            entries = committed(journal)
            assert [e for e in entries if lost(conn, e)] == []  # and nothing lost later
            for entry in entries:
                ops[entry["op"]] = ops.get(entry["op"], 0) + 1
        finally:
            conn.close()
    finally:
        zygote.close()
    # Every use case was committed, and checked, many times over.
    print(f"\n{kills} kills, {finished} runs finished, {len(entries)} writes checked: {ops}")
    assert set(ops) == {"checkin", "learn", "review", "import", "submit"}, ops
    assert min(ops.values()) >= 3 and len(entries) >= 3 * kills_wanted, ops


@pytest.mark.slow
def test_sigkill_while_a_new_database_is_created_leaves_one_the_next_command_uses(
    tmp_path: Path,
) -> None:
    """The first command on a new file: schema, WAL, curriculum, learner; killed anywhere."""
    from tracker.store import open_store

    seed = int(os.environ.get("CRASH_SEED", 15))
    rng = random.Random(seed)
    folder = tmp_path / "crash"
    folder.mkdir()
    zygote = Zygote(folder, child_env(folder, TRACKER_CRASH_SUBMIT="0"))
    lessons = len([p for p in (ROOT / "lessons").iterdir() if (p / "lesson.toml").exists()])
    kills = 0
    try:
        for run in range(CREATION_KILLS):
            db = folder / f"new-{run}.db"
            delay = rng.uniform(0.0, 0.4)
            what = f"seed {seed} run {run} delay {delay:.3f}: "
            pid = int(zygote.ask(f"run 0 {rng.randrange(1 << 30)} db={db}"))
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            status = int(zygote.ask(f"wait {pid}"))
            kills += os.WIFSIGNALED(status)
            errors = folder / "child-errors.log"
            assert not errors.exists(), what + errors.read_text()
            store = open_store(str(db))  # the next command, whatever the kill left
            store.close()
            conn = sqlite3.connect(db)
            try:
                assert query(conn, "PRAGMA integrity_check") == [("ok",)], what
                assert query(conn, "PRAGMA journal_mode") == [("wal",)], what
                assert query(conn, "SELECT count(*) FROM lessons") == [(lessons,)], what
                # The next command's learner, and the killed one's if it got that far.
                names = [name for (name,) in query(conn, "SELECT name FROM learners")]
                assert sorted(names) in (["me"], ["learner-0", "me"]), what
            finally:
                conn.close()
    finally:
        zygote.close()
    assert kills == CREATION_KILLS


# The bwrap that a cold submit starts arms its own --die-with-parent only once it runs:
# a tracker killed before that (found by the kills above, about one in 25 kills during
# a submit's first second) left the sandbox running the learner's code, its wall-clock
# limit gone with the tracker. Here the "bwrap" is a stand-in that never arms anything.
STAND_IN = """
import sys
from pathlib import Path

from tracker.validation import sandbox
from tracker.validation.execution import Limits

job, pid_file = Path(sys.argv[1]), sys.argv[2]
(job / "out").mkdir(parents=True)
executor = sandbox.ColdExecutor.__new__(sandbox.ColdExecutor)
sandbox._ProcessExecutor.__init__(executor)
script = f"echo $$ > {pid_file}.partial && mv {pid_file}.partial {pid_file} && exec sleep 60"
executor.command = lambda job_dir: ["/bin/sh", "-c", script]
executor.run(job, Limits(timeout_s=60))
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_sandbox_that_has_not_armed_its_own_death_signal_dies_with_tracker(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "sandbox.pid"
    tracker = subprocess.Popen(
        [sys.executable, "-c", STAND_IN, str(tmp_path / "job"), str(pid_file)], cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while not pid_file.exists():
        assert tracker.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    sandboxed = int(pid_file.read_text())
    try:
        tracker.kill()  # SIGKILL: no clean-up runs
        tracker.wait()
        deadline = time.monotonic() + 5
        while alive(sandboxed) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not alive(sandboxed), "the sandbox outlived the tracker that started it"
    finally:
        if alive(sandboxed):
            os.kill(sandboxed, signal.SIGKILL)
