"""Learner code left on disk (issue 9, item 14): cold job directories never outlive their run.

A cold submit copies the learner's file into job directories under one
per-user parent (``runner.job_parent``), each named after its owner's pid and
start time. SIGTERM (and Ctrl-C, tests/test_interrupts.py) removes them on the
way out; SIGKILL cannot, so the next validation sweeps the directories of
owners that no longer run. The slow tests kill real `python -m tracker submit`
processes at random moments (seeded; FUZZ_SEED and FUZZ_RUNS hunt further)
and look at what is left.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from signal_support import processes_mentioning, rows, signal_run, wait_until_gone

from tracker.interrupt import MESSAGE
from tracker.validation import runner

ROOT = Path(__file__).resolve().parents[1]
LESSON = "attention-mechanism-1"
CORRECT = ROOT / "tests" / "submissions" / LESSON / "correct_matmul.py"


# --- the sweep -------------------------------------------------------------------------------


def job_dir(parent: Path, owner: str, name: str = "x") -> Path:
    path = parent / f"{runner.JOB_PREFIX}{owner}-{name}"
    (path / "out").mkdir(parents=True)
    (path / "submission.py").write_text("secret = 1\n")
    return path


def test_the_sweep_removes_dead_owners_directories_only(tmp_path: Path) -> None:
    me = os.getpid()
    started = runner._start_time(me)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    live = job_dir(tmp_path, f"{me}-{started}")
    reused_pid = job_dir(tmp_path, f"{me}-{started + 1}")  # our pid, another process's start
    gone = job_dir(tmp_path, f"{dead_pid}-{started}")
    unreadable = job_dir(tmp_path, f"{dead_pid}-{started}", "locked")
    (unreadable / "out").chmod(0o000)  # a worker may leave out/ without permissions
    not_ours = tmp_path / "tracker-job-notanowner"
    not_ours.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    link = tmp_path / f"{runner.JOB_PREFIX}{dead_pid}-{started}-link"
    link.symlink_to(outside)

    removed = runner.sweep_dead_jobs(tmp_path)

    assert sorted(removed) == sorted([reused_pid, gone, unreadable])
    assert live.is_dir() and not_ours.is_dir() and link.is_symlink()
    assert (outside / "keep.txt").read_text() == "keep"


def test_the_parent_is_private_and_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.tempfile, "tempdir", str(tmp_path))
    parent = tmp_path / f"tracker-jobs-{os.getuid()}"
    parent.mkdir(mode=0o700)
    dead = job_dir(parent, f"1-{(runner._start_time(1) or 0) + 1}")  # not pid 1's start: gone
    assert runner.job_parent() == parent
    assert not dead.exists()
    assert parent.stat().st_mode & 0o777 == 0o700


def test_a_parent_others_can_write_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner.tempfile, "tempdir", str(tmp_path))
    parent = tmp_path / f"tracker-jobs-{os.getuid()}"
    parent.mkdir()
    parent.chmod(0o777)
    planted = job_dir(parent, "1-1")
    assert runner.job_parent() == tmp_path  # job dirs go beside it, in private mkdtemp dirs
    assert planted.exists()  # and nothing in a directory others control is trusted or removed


# --- real processes, killed ------------------------------------------------------------------


def prepared(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tmp").mkdir(exist_ok=True)
    (folder / "config.toml").write_text('timezone = "UTC"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        TRACKER_DB=str(folder / "tracker.db"),
        TRACKER_CONFIG=str(folder / "config.toml"),
        TMPDIR=str(folder / "tmp"),
    )
    subprocess.run(
        [sys.executable, "-m", "tracker", "init"],
        env=env,
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return env


def job_dirs(folder: Path) -> list[Path]:
    """Every job directory under the run's TMPDIR, in the parent or beside it."""
    tmp = folder / "tmp"
    return sorted([*tmp.glob("tracker-jobs-*/*"), *tmp.glob(f"{runner.JOB_PREFIX}*")])


@pytest.mark.slow
def test_sigkilled_submits_leave_nothing_after_the_next_runs_sweep(tmp_path: Path) -> None:
    env = prepared(tmp_path)
    rng = random.Random(int(os.environ.get("FUZZ_SEED", 14)))
    left_behind = 0
    for index in range(int(os.environ.get("FUZZ_RUNS", 12))):
        delay = rng.uniform(0.02, 2.0)
        run = signal_run(
            ["submit", LESSON, str(CORRECT)],
            delay_s=delay,
            env=env,
            cwd=tmp_path,
            sig=signal.SIGKILL,
        )
        what = f"run {index}, delay {delay:.3f}: "
        assert run.returncode in (0, -signal.SIGKILL), what + run.stderr
        # The sandbox dies with its parent (bwrap --die-with-parent, or the worker's own watch).
        assert wait_until_gone(str(tmp_path / "tmp")) == [], what
        left_behind += len(job_dirs(tmp_path))
    assert left_behind > 0  # the fault was injected: SIGKILL did leave learner code behind
    finished = signal_run(["submit", LESSON, str(CORRECT)], delay_s=None, env=env, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert job_dirs(tmp_path) == []


@pytest.mark.slow
def test_sigterm_leaves_nothing_at_all(tmp_path: Path) -> None:
    env = prepared(tmp_path)
    rng = random.Random(int(os.environ.get("FUZZ_SEED", 41)))
    for index in range(int(os.environ.get("FUZZ_RUNS", 10))):
        delay = rng.uniform(0.02, 2.0)
        run = signal_run(
            ["submit", LESSON, str(CORRECT)],
            delay_s=delay,
            env=env,
            cwd=tmp_path,
            sig=signal.SIGTERM,
        )
        what = f"run {index}, delay {delay:.3f}: "
        assert "Traceback" not in run.stderr, what + run.stderr
        if run.returncode == 143:
            assert run.stderr_lines == [MESSAGE], what + run.stderr
        else:
            assert run.returncode == 0 and run.signalled_after_s is None, what + run.stderr
        assert wait_until_gone(str(tmp_path / "tmp")) == [], what
        assert job_dirs(tmp_path) == [], what  # before any later run could sweep
    # A right answer: every recorded submission passed (no attempt made up by the signal).
    assert rows(tmp_path / "tracker.db", "SELECT min(passed) FROM submissions") in (
        [(None,)],
        [(1,)],
    )
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.slow
def test_without_bubblewrap_a_sigkilled_submit_leaves_no_worker_running(tmp_path: Path) -> None:
    """No bwrap --die-with-parent: the kernel's death signal ends the learner's endless loop."""
    env = prepared(tmp_path)
    # A machine without bubblewrap: the runner falls back to rlimits only.
    env["PATH"] = os.pathsep.join(
        d for d in env.get("PATH", "").split(os.pathsep) if d and not Path(d, "bwrap").exists()
    )
    endless = tmp_path / "endless.py"
    endless.write_text("while True:\n    pass\n")
    tmp = str(tmp_path / "tmp")
    for index in range(3):
        run = signal_run(
            ["submit", "multi-head-attention-2", str(endless), "--timeout", "60"],
            delay_s=0.0,
            env=env,
            cwd=tmp_path,
            sig=signal.SIGKILL,
            ready=lambda _out: processes_mentioning(tmp) != [],  # a worker runs the loop
        )
        assert run.returncode == -signal.SIGKILL, run.stderr
        assert wait_until_gone(tmp) == [], f"run {index}: the worker outlived its tracker"
    finished = signal_run(
        ["submit", LESSON, str(CORRECT), "--json"], delay_s=None, env=env, cwd=tmp_path
    )
    assert finished.returncode == 0, finished.stderr
    assert '"isolation": "rlimits-only"' in finished.stdout
    assert job_dirs(tmp_path) == []
