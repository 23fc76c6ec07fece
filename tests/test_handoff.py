"""`tracker submit` handed off to a running `tracker serve`: same answers, same records.

The parser and the refusals are unit tests; the end-to-end tests start a real
``tracker serve`` (module scope: it imports torch) and run the console script
in subprocesses, as a learner would. The fault tests of issue 9 (items 1-5)
inject each fault: a second serve, a serve killed between its commit and its
reply, a stopped serve, a Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_support import (
    ROOT,
    TRACKER,
    Served,
    ask,
    bwrap_works,
    ping,
    serve_env,
    serve_fixture,
    start_serve,
    stop_serve,
)

from tracker.handoff import RunHere, SubmitArgs, parse_submit, try_handoff
from tracker.validation import protocol

BANK = ROOT / "tests" / "submissions" / "multi-head-attention-2"
ATTENTION = ROOT / "tests" / "submissions" / "attention-mechanism-1"
CORRECT = str(BANK / "correct.py")
# Right answers that take their time: the fault is injected while they run.
SLOW_CORRECT = "import time as _t\n_t.sleep({seconds})\n"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["submit", "l-1", "f.py"], SubmitArgs(None, "l-1", "/w/f.py")),
        (["--db", "x.db", "submit", "l-1", "f.py"], SubmitArgs("x.db", "l-1", "/w/f.py")),
        (["--db=x.db", "submit", "l-1", "/abs/f.py"], SubmitArgs("x.db", "l-1", "/abs/f.py")),
        (
            ["--no-color", "submit", "--json", "l-1", "f.py", "--device", "CPU", "--timeout=5"],
            SubmitArgs(None, "l-1", "/w/f.py", "cpu", 5, as_json=True, no_color=True),
        ),
        (["submit", "l-1", "f.py", "--review"], SubmitArgs(None, "l-1", "/w/f.py", review=True)),
        (["submit", "l-1", "f.py", "--help"], None),
        (["submit", "l-1"], None),
        (["submit", "l-1", "f.py", "g.py"], None),
        (["submit", "l-1", "f.py", "--devcie", "cpu"], None),
        (["submit", "l-1", "f.py", "--device", "tpu"], None),
        (["submit", "l-1", "f.py", "--timeout", "0"], None),
        (["submit", "l-1", "f.py", "--request-id", "abc"], None),
        (["--version", "submit", "l-1", "f.py"], None),
        (["checkin"], None),
        (["lesson", "show", "submit"], None),
    ],
)
def test_only_a_plain_submit_is_handed_off(
    argv: list[str], expected: SubmitArgs | None, monkeypatch: pytest.MonkeyPatch
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
    assert try_handoff(["submit", "multi-head-attention-2", "x.py"]) == RunHere()


def test_a_server_that_never_answers_is_given_up_on(db_path: Path) -> None:
    """The fault: a stopped server (issue 9, item 4): the wait for "accepted" is bounded."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = Path(f"{db_path}.sock")
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(1)  # the kernel accepts; nobody ever reads or replies
    try:
        started = time.monotonic()
        assert try_handoff(["submit", "multi-head-attention-2", "x.py"]) == RunHere()
        assert time.monotonic() - started < protocol.ACCEPT_TIMEOUT_S + 1
    finally:
        listener.close()


def message(**changes: object) -> dict:
    fields = {
        "request_id": "abc123",
        "lesson_id": "multi-head-attention-2",
        "file": "/tmp/x.py",
        "device": "cpu",
        "timeout": None,
        "for_review": False,
        "database": "/tmp/x.db",
        "lessons_dir": "/tmp",
        "settings": {},
        "now": "2026-12-02T10:00:00+00:00",
    }
    return {"op": "submit", "v": protocol.VERSION, **fields, **changes}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"v": 1}, "protocol version 1, expected 2"),
        ({"request_id": "../x"}, "request_id must be up to 64 letters and digits"),
        ({"lesson_id": 5}, "lesson_id must be a non-empty string"),
        ({"device": "tpu"}, "device must be one of auto, cpu, cuda, mps"),
        ({"timeout": float("nan")}, "timeout must be a number of seconds from 1 to 3600"),
        ({"timeout": True}, "timeout must be a number of seconds from 1 to 3600"),
        ({"for_review": "yes"}, "for_review must be true or false"),
        ({"settings": []}, "settings must be an object"),
        ({"now": "yesterday"}, "now must be an ISO 8601 datetime"),
        ({"now": "2026-12-02T10:00:00"}, "now must carry an offset"),
    ],
)
def test_malformed_requests_are_named(changes: dict, error: str) -> None:
    with pytest.raises(ValueError) as raised:
        protocol.SubmitMessage.from_message(message(**changes))
    assert str(raised.value) == error


def test_a_request_travels_unchanged() -> None:
    request = protocol.SubmitMessage.from_message(message(timeout=30))
    assert protocol.SubmitMessage.from_message(request.to_message()) == request


# --- a real serve -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_fixture(tmp_path_factory, "handoff")


def slow_file(tmp_path: Path, seconds: float) -> Path:
    """multi-head-attention-2's correct answer, after a nap at import."""
    path = tmp_path / "slow_correct.py"
    path.write_text(SLOW_CORRECT.format(seconds=seconds) + (BANK / "correct.py").read_text())
    return path


@pytest.mark.slow
def test_a_pass_is_validated_warm_and_recorded_with_the_clients_clock(served: Served) -> None:
    result = served.submit("multi-head-attention-2", CORRECT, "--json", now="2025-03-04T10:00")
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["passed"] and verdict["recorded"]
    assert verdict["isolation"] == "bubblewrap (warm)"
    assert served.rows("SELECT lesson_id, depth FROM progress") == [("multi-head-attention-2", 2)]
    assert served.rows("SELECT local_date FROM submissions") == [("2025-03-04",)]
    assert "submit multi-head-attention-2: passed, recorded in" in served.log.read_text()


@pytest.mark.slow
def test_warm_and_cold_print_the_same_verdict(served: Served, tmp_path: Path) -> None:
    wrong = str(BANK / "wrong_no_scaling.py")
    warm = served.submit("multi-head-attention-2", wrong)
    cold = subprocess.run(
        [*TRACKER, "submit", "multi-head-attention-2", wrong],
        capture_output=True,
        text=True,
        env={**os.environ, **serve_env(tmp_path)},
        timeout=180,
    )
    assert warm.returncode == cold.returncode == 1
    assert "isolation bubblewrap (warm)" in warm.stdout and "sqrt(d_k)" in warm.stdout

    def shape(text: str) -> list[str]:
        """Each line up to its first colon (the inputs, so the numbers, differ by seed),
        without the wrapped continuations of advice."""
        lines = text.splitlines()
        return [x.split(":")[0] for x in lines if not x.startswith(("device ", "      "))]

    assert shape(warm.stdout) == shape(cold.stdout)


@pytest.mark.slow
def test_errors_read_as_they_do_cold(served: Served, tmp_path: Path) -> None:
    count = "SELECT count(*) FROM submissions"
    before = served.rows(count)[0][0]
    missing = served.submit("multi-head-attention-2", str(tmp_path / "nope.py"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"Error: {tmp_path / 'nope.py'}: no such file"
    unknown = served.submit("no-such-lesson-9", CORRECT)
    assert unknown.returncode == 2
    assert "no lesson 'no-such-lesson-9'" in unknown.stderr
    review = served.submit("positional-encoding-2", CORRECT, "--review")
    assert review.returncode == 2
    assert review.stderr.strip() == (
        "Error: --review is for lessons already passed; "
        "submit positional-encoding-2 without --review first"
    )
    assert served.rows(count)[0][0] == before
    assert "refused" in served.log.read_text()


@pytest.mark.slow
def test_a_relative_db_means_the_clients_directory(served: Served) -> None:
    """The server runs elsewhere: the client resolves --db before handing the command over."""
    count = "SELECT count(*) FROM submissions"
    before = served.rows(count)[0][0]
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_DB", "TRACKER_NOW")}
    env["TRACKER_CONFIG"] = "config.toml"  # relative too
    result = subprocess.run(
        [*TRACKER, "--db", served.db.name, "submit", "attention-mechanism-1"]
        + [str(ATTENTION / "correct_matmul.py"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=served.db.parent,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["isolation"] == "bubblewrap (warm)"
    assert served.rows(count)[0][0] == before + 1


@pytest.mark.slow
def test_the_server_declines_what_is_not_its_own(served: Served, tmp_path: Path) -> None:
    from tracker.resources import lessons_dir

    def reply(**changes: object) -> dict:
        return ask(served.paths.socket, message(**changes))[-1]

    ours = {"database": str(served.db), "lessons_dir": str(lessons_dir())}
    assert reply(**{**ours, "database": str(tmp_path / "other.db")}) == {
        "ok": False,
        "error": "this server validates for another database",
    }
    assert not (tmp_path / "other.db").exists()
    assert reply(**{**ours, "lessons_dir": str(tmp_path)}) == {
        "ok": False,
        "error": "this server uses another lessons folder",
    }
    assert reply(**ours, device="tpu") == {
        "ok": False,
        "error": "malformed submit request: device must be one of auto, cpu, cuda, mps",
    }
    assert ask(served.paths.socket, {"op": "reboot"}) == [
        {"ok": False, "error": "unknown op 'reboot'"}
    ]


ORPHAN = ROOT / "tests" / "hostile_memory" / "orphan_full_matrix.py"


def _memory_check(result: subprocess.CompletedProcess) -> dict:
    verdict = json.loads(result.stdout)
    return next(c for c in verdict["checks"] if c["name"] == "memory")


@pytest.mark.slow
def test_memory_in_an_unreaped_child_counts_warm(served: Served) -> None:
    result = served.submit("flash-attention-3", str(ORPHAN), "--json")
    assert json.loads(result.stdout)["isolation"] == "bubblewrap (warm)"
    assert result.returncode == 1, result.stdout
    assert not _memory_check(result)["passed"]


@pytest.mark.slow
def test_memory_in_an_unreaped_child_counts_cold(tmp_path: Path) -> None:
    if not bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    result = subprocess.run(
        [*TRACKER, "submit", "flash-attention-3", str(ORPHAN), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **serve_env(tmp_path)},
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert not _memory_check(result)["passed"]


# --- faults (issue 9, items 1-5) ----------------------------------------------------------------


@pytest.mark.slow
def test_a_second_serve_is_refused_and_touches_nothing_of_the_first(tmp_path: Path) -> None:
    if not bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    first = start_serve(tmp_path)
    try:
        before = first.info()
        socket_inode = os.lstat(first.paths.socket).st_ino
        second = subprocess.run(
            [*TRACKER, "serve"],
            env={**os.environ, **serve_env(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 3
        assert second.stderr.strip() == (
            f"Error: tracker serve already runs for this database "
            f"(pid {first.process.pid}) (lock {first.paths.lock})"
        )
        assert "Traceback" not in second.stderr
        assert os.lstat(first.paths.socket).st_ino == socket_inode
        assert first.paths.spool.is_dir()
        assert first.info()["zygote_pid"] == before["zygote_pid"]
        zygote = before["zygote_pid"]
    finally:
        code = stop_serve(first)
    assert code == 0
    assert not first.paths.socket.exists()
    assert not first.paths.spool.exists()
    assert not Path(f"/proc/{zygote}").exists()


@pytest.mark.slow
def test_a_serve_killed_before_it_could_reply_leaves_one_record(tmp_path: Path) -> None:
    """The fault: serve dies after its commit, before its reply (issue 9, item 3)."""
    if not bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    served = start_serve(tmp_path, TRACKER_FAULTS="serve-before-reply")
    try:
        for args in ([], ["--review"]):  # a first pass, then a review of its code card
            result = served.submit("multi-head-attention-2", CORRECT, "--json", *args)
            assert result.returncode == 0, result.stderr
            assert served.process.wait(timeout=30) == 97  # it did die there
            verdict = json.loads(result.stdout)
            assert verdict["passed"] and verdict["isolation"] == "bubblewrap (warm)"
            served = start_serve(tmp_path, TRACKER_FAULTS="serve-before-reply")
        assert served.rows("SELECT count(*), count(DISTINCT request_id) FROM submissions") == [
            (2, 2)
        ]
        assert served.rows("SELECT count(*) FROM study_sessions") == [(1,)]
        assert served.rows("SELECT count(*) FROM review_logs") == [(1,)]
    finally:
        stop_serve(served)


@pytest.mark.slow
def test_a_stopped_serve_does_not_hang_submit(tmp_path: Path) -> None:
    """The fault: `kill -STOP` of serve (issue 9, item 4): bounded waits, then cold, once."""
    if not bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    served = start_serve(tmp_path)
    try:
        os.kill(served.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        result = served.submit("attention-mechanism-1", str(ATTENTION / "correct_matmul.py"))
        assert time.monotonic() - started < 60
        assert result.returncode == 0, result.stderr
        assert "isolation bubblewrap," in result.stdout  # ran cold
        os.kill(served.process.pid, signal.SIGCONT)
        assert ping(served.paths.socket, timeout=5) is not None
        # Stopped mid-job: the heartbeats stop, the client runs it cold, one record.
        slow = slow_file(tmp_path, 3)
        client = subprocess.Popen(
            [*TRACKER, "submit", "multi-head-attention-2", str(slow), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=served.env(),
        )
        time.sleep(1.5)
        os.kill(served.process.pid, signal.SIGSTOP)
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        assert json.loads(out)["isolation"] == "bubblewrap"
        os.kill(served.process.pid, signal.SIGCONT)
        time.sleep(5)  # serve finishes its run of the same request: it must not record again
        assert served.rows(
            "SELECT count(*) FROM submissions WHERE lesson_id = 'multi-head-attention-2'"
        ) == [(1,)]
    finally:
        os.kill(served.process.pid, signal.SIGCONT)
        stop_serve(served)


@pytest.mark.slow
def test_ctrl_c_on_a_warm_submit_cancels_it(served: Served, tmp_path: Path) -> None:
    """The fault: Ctrl-C while serve runs the checks (issue 9, item 5)."""
    before = served.rows("SELECT count(*) FROM submissions")[0][0]
    client = subprocess.Popen(
        [*TRACKER, "submit", "multi-head-attention-2", str(slow_file(tmp_path, 20))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=served.env(),
    )
    time.sleep(2.0)
    client.send_signal(signal.SIGINT)
    out, err = client.communicate(timeout=30)
    assert client.returncode == 130
    assert err.strip() == "Interrupted: nothing more was recorded."
    assert "Traceback" not in out + err
    deadline = time.monotonic() + 15
    while served.rows("SELECT count(*) FROM submissions")[0][0] == before:
        assert time.monotonic() < deadline, served.log.read_text()
        time.sleep(0.2)
    assert served.rows("SELECT passed, error FROM submissions ORDER BY id DESC LIMIT 1") == [
        (0, "cancelled before the checks finished (Ctrl-C); nothing recorded but this attempt")
    ]
    assert "submit multi-head-attention-2: cancelled" in served.log.read_text()
    assert served.info()["zygote_pid"] is not None  # still warm for the next learner


@pytest.mark.slow
def test_after_serve_stops_submit_runs_cold(tmp_path: Path) -> None:
    if not bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    served = start_serve(tmp_path)
    stop_serve(served)
    result = served.submit("attention-mechanism-1", str(ATTENTION / "correct_matmul.py"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["isolation"] == "bubblewrap"


def test_the_console_script_never_imports_the_cli_from_below() -> None:
    code = (
        "import sys, tracker.handoff, tracker.serve.host, "
        "tracker.serve.validation, tracker.usecases.submit\n"
        "print([m for m in sys.modules if m == 'tracker.cli' or m.startswith('tracker.cli.')])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
