"""`tracker submit` handed off to a running `tracker serve`: same answers, same records.

The parser and the refusals are unit tests; the end-to-end tests start one
``tracker serve`` (module scope: it imports torch) and run the real console
script in subprocesses, as a learner would.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_warm import Served, _bwrap_works, start_serve, stop_serve

from tracker.handoff import parse_submit, try_handoff

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "tests" / "submissions" / "multi-head-attention-2"
TRACKER = [sys.executable, "-m", "tracker"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["submit", "l-1", "f.py"], (None, ["l-1", "/w/f.py"])),
        (["--db", "x.db", "submit", "l-1", "f.py"], ("x.db", ["l-1", "/w/f.py"])),
        (["--db=x.db", "submit", "l-1", "/abs/f.py"], ("x.db", ["l-1", "/abs/f.py"])),
        (
            ["submit", "--json", "l-1", "f.py", "--device", "cpu", "--timeout=5", "--review"],
            (None, ["l-1", "/w/f.py", "--json", "--device", "cpu", "--timeout=5", "--review"]),
        ),
        (["submit", "l-1", "f.py", "--help"], None),
        (["submit", "l-1"], None),
        (["submit", "l-1", "f.py", "g.py"], None),
        (["submit", "l-1", "f.py", "--devcie", "cpu"], None),
        (["--version", "submit", "l-1", "f.py"], None),
        (["checkin"], None),
        (["lesson", "show", "submit"], None),
    ],
)
def test_only_a_plain_submit_is_handed_off(
    argv: list[str], expected: tuple | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    monkeypatch.setattr(os.path, "abspath", lambda p: p if p.startswith("/") else f"/w/{p}")
    assert parse_submit(argv) == expected


def test_no_server_means_the_command_runs_here(db_path: Path) -> None:
    assert try_handoff(["submit", "multi-head-attention-2", "x.py"]) is None


def test_a_socket_others_could_open_is_not_used(db_path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = Path(f"{db_path}.sock")
    listener.bind(str(path))
    listener.listen(1)
    try:
        os.chmod(path, 0o666)
        assert try_handoff(["submit", "multi-head-attention-2", "x.py"]) is None
    finally:
        listener.close()


def test_a_stale_socket_means_the_command_runs_here(db_path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = Path(f"{db_path}.sock")
    listener.bind(str(path))
    listener.close()  # nobody listens any more
    os.chmod(path, 0o600)
    assert try_handoff(["submit", "multi-head-attention-2", "x.py"]) is None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not _bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    running = start_serve(tmp_path_factory.mktemp("handoff"))
    yield running
    if running.process.poll() is None:
        stop_serve(running)


def submit(served: Served, *args: str, now: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TRACKER_DB": str(served.db),
        "TRACKER_CONFIG": str(served.db.parent / "config.toml"),
    }
    env.pop("TRACKER_NOW", None)
    if now is not None:
        env["TRACKER_NOW"] = now
    return subprocess.run(
        [*TRACKER, "submit", *args], capture_output=True, text=True, env=env, timeout=120
    )


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.slow
def test_a_pass_is_validated_warm_and_recorded_with_the_clients_clock(served: Served) -> None:
    result = submit(
        served, "multi-head-attention-2", str(BANK / "correct.py"), "--json", now="2025-03-04T10:00"
    )
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["passed"] and verdict["recorded"]
    assert verdict["isolation"] == "bubblewrap (warm)"
    assert rows(served.db, "SELECT lesson_id, depth FROM progress") == [
        ("multi-head-attention-2", 2)
    ]
    assert rows(served.db, "SELECT local_date FROM submissions") == [("2025-03-04",)]


@pytest.mark.slow
def test_a_failure_reads_as_it_does_cold(served: Served, tmp_path: Path) -> None:
    before = rows(served.db, "SELECT count(*) FROM submissions")[0][0]
    warm = submit(served, "multi-head-attention-2", str(BANK / "wrong_no_scaling.py"))
    assert warm.returncode == 1
    assert "isolation bubblewrap (warm)" in warm.stdout
    assert "sqrt(d_k)" in warm.stdout
    assert rows(served.db, "SELECT count(*) FROM submissions")[0][0] == before + 1
    missing = submit(served, "multi-head-attention-2", str(tmp_path / "nope.py"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"Error: {tmp_path / 'nope.py'}: no such file"
    unknown = submit(served, "no-such-lesson-9", str(BANK / "correct.py"))
    assert unknown.returncode == 2
    assert "no lesson 'no-such-lesson-9'" in unknown.stderr
    assert rows(served.db, "SELECT count(*) FROM submissions")[0][0] == before + 1


@pytest.mark.slow
def test_a_relative_db_means_the_clients_directory(served: Served) -> None:
    """The server runs elsewhere: the client resolves --db before handing the command over."""
    count = "SELECT count(*) FROM submissions"
    before = rows(served.db, count)[0][0]
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_DB", "TRACKER_NOW")}
    env["TRACKER_CONFIG"] = "config.toml"  # relative too
    result = subprocess.run(
        [*TRACKER, "--db", served.db.name, "submit", "attention-mechanism-1"]
        + [str(ROOT / "lessons" / "attention-mechanism-1" / "reference.py"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=served.db.parent,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["isolation"] == "bubblewrap (warm)"
    assert rows(served.db, count)[0][0] == before + 1


@pytest.mark.slow
def test_the_server_refuses_another_database(served: Served, tmp_path: Path) -> None:
    from tracker.validation.warm import request

    reply = request(
        served.paths.socket,
        {"op": "submit", "db": str(tmp_path / "other.db"), "args": ["x", "y"], "env": {}},
        timeout=10,
    )
    assert reply == {"ok": False, "error": "this server validates for another database"}
    assert not (tmp_path / "other.db").exists()


ORPHAN = ROOT / "tests" / "hostile_memory" / "orphan_full_matrix.py"


def _memory_check(result: subprocess.CompletedProcess) -> dict:
    verdict = json.loads(result.stdout)
    return next(c for c in verdict["checks"] if c["name"] == "memory")


@pytest.mark.slow
def test_memory_in_an_unreaped_child_counts_warm(served: Served) -> None:
    result = submit(served, "flash-attention-3", str(ORPHAN), "--json")
    assert json.loads(result.stdout)["isolation"] == "bubblewrap (warm)"
    assert result.returncode == 1, result.stdout
    assert not _memory_check(result)["passed"]


@pytest.mark.slow
def test_memory_in_an_unreaped_child_counts_cold(tmp_path: Path) -> None:
    if not _bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    env = {**os.environ, "TRACKER_DB": str(tmp_path / "t.db")}
    env["TRACKER_CONFIG"] = str(tmp_path / "c.toml")
    result = subprocess.run(
        [*TRACKER, "submit", "flash-attention-3", str(ORPHAN), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert not _memory_check(result)["passed"]


@pytest.mark.slow
def test_after_serve_stops_submit_runs_cold(served: Served) -> None:
    stop_serve(served)
    result = submit(served, "multi-head-attention-2", str(BANK / "correct.py"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["isolation"] == "bubblewrap"
