"""Hostile submissions through `tracker submit`: each must fail cleanly and change nothing.

For every file in tests/hostile/: exit status 1, a verdict that did not pass with
an error a learner can read, no process left behind, no file written outside the
sandbox, no connection made to a listener on the host, and nothing in the
database but one more failed submission row. Isolation is required (so a
missing sandbox fails these tests instead of running `kill -9 -1` unconfined).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest
from test_sandbox import Listener, marker_processes, wait_gone

from tracker.validation import sandbox
from tracker.validation.sandbox import _descendants, _process_table

HOSTILE = Path(__file__).parent / "hostile"
LESSON = "multi-head-attention-2"
TABLES = ("submissions", "study_sessions", "progress", "review_cards", "review_logs")

# file -> (where the explanation is: "error" or a check name, text it contains)
CASES = {
    "infinite_loop.py": ("error", "timed out after 5 s"),
    "memory_hog.py": ("error", "hit the memory limit (8 GiB)"),
    "process_spray.py": ("error", "hit the process limit (256 processes)"),
    "write_outside.py": ("interface", "the file defines no SimpleMultiHeadAttention"),
    "network.py": ("interface", "the file defines no SimpleMultiHeadAttention"),
    "kill_parent.py": ("interface", "the file defines no SimpleMultiHeadAttention"),
    "print_flood.py": ("error", "hit the output limit"),
    "fake_success.py": ("numbers_float64", "differs from the reference"),
    "patched_comparisons.py": ("output_shape", "expected (2, 5, 256)"),
    "exit_at_import.py": ("error", "the submission exited while being imported: SystemExit"),
    "os_exit_at_import.py": (
        "error",
        "the worker exited before handing back results (exit status 0)",
    ),
    "exit_in_forward.py": ("error", "the worker exited before handing back results"),
    "os_exit_in_forward.py": ("error", "the worker exited before handing back results"),
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sandbox.bubblewrap_works(), reason="bubblewrap cannot run here"),
]


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_every_hostile_file_is_listed() -> None:
    assert {p.name for p in HOSTILE.glob("*.py")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission_fails_cleanly(
    name: str, tmp_path: Path, tracker_env: Path, monkeypatch: pytest.MonkeyPatch, cli_run
) -> None:
    (tracker_env / "config.toml").write_text('timezone = "UTC"\nrequire_isolation = true\n')
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(jobs))  # the runner's job dirs land here
    marker = f"hostile-{os.getpid()}-{time.monotonic_ns()}"
    outside = tmp_path / "outside" / "planted.txt"
    listener = Listener()
    source = (
        (HOSTILE / name)
        .read_text()
        .replace("__MARKER__", marker)
        .replace("__PORT__", str(listener.port))
        .replace("__OUTSIDE__", str(outside))
    )
    submission = tmp_path / name
    submission.write_text(source)
    cli_run("init")
    before = counts(tracker_env / "tracker.db")
    timeout = "5" if name == "infinite_loop.py" else "60"
    try:
        result = cli_run("submit", LESSON, str(submission), "--json", "--timeout", timeout)
        if name == "write_outside.py":
            time.sleep(3.5)  # its lingering child would write now, had it survived
    finally:
        listener.close()

    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)  # stdout is the verdict alone, whatever was printed
    assert document["passed"] is False and document["recorded"] is False
    assert document["isolation"] == "bubblewrap"
    where, text = CASES[name]
    if where == "error":
        assert text in (document["error"] or ""), document
    else:
        failed = {c["name"]: c["message"] for c in document["checks"] if not c["passed"]}
        assert text in failed.get(where, ""), failed
    assert "Traceback" not in result.output

    assert wait_gone(marker) == []
    assert _descendants(_process_table(), os.getpid()) == {}
    assert not outside.exists() and not outside.parent.exists()
    assert [p.name for p in jobs.glob("tracker-jobs-*/*")] == []  # none left in the parent
    assert listener.accepted == []
    after = counts(tracker_env / "tracker.db")
    assert after == {**before, "submissions": before["submissions"] + 1}
    with sqlite3.connect(tracker_env / "tracker.db") as conn:
        passed, isolation = conn.execute(
            "SELECT passed, isolation FROM submissions ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert (passed, isolation) == (0, "bubblewrap")
    assert marker_processes(marker) == []
