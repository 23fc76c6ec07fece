"""Signals at random moments to real `python -m tracker` processes, and what they leave.

A run starts the command in its own session (as a shell starts a foreground
job), waits a random delay and signals the whole process group, as Ctrl-C in
a terminal does. Before tracker's own handlers are in place (the first ~15 ms:
the interpreter starting up, runpy) a signal is Python's business, not
tracker's: the delay then stretches to the moment ``/proc/PID/status`` shows
SIGTERM caught, which only tracker's handler does.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TRACKER = [sys.executable, "-m", "tracker"]


@dataclass
class Run:
    """One signalled command: its exit status, output, and when the signal went."""

    returncode: int
    stdout: str
    stderr: str
    signalled_after_s: float | None  # None: it had finished before the signal

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def handlers_installed(pid: int) -> bool:
    """tracker's handlers are in place: the process catches SIGTERM (Python alone does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def signal_run(
    args: list[str],
    *,
    delay_s: float | None,
    env: dict[str, str],
    cwd: Path,
    sig: int = signal.SIGINT,
    stdin_text: str | None = None,
    ready: Callable[[str], bool] | None = None,
    timeout_s: float = 60.0,
) -> Run:
    """Run ``tracker ARGS``, send ``sig`` to its process group after ``delay_s``, collect.

    ``delay_s`` None sends nothing: the command runs to its end. ``ready``
    (a test on the output so far) holds the signal back until it is true.
    """
    out_path, err_path = cwd / ".run.out", cwd / ".run.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.monotonic()
        process = subprocess.Popen(
            [*TRACKER, *args],
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=cwd,
            start_new_session=True,
            text=True,
        )
        if stdin_text is not None and process.stdin is not None:
            process.stdin.write(stdin_text)  # and left open: the next prompt waits
            process.stdin.flush()
        sent = None
        if delay_s is not None:
            time.sleep(max(0.0, started + delay_s - time.monotonic()))
            while process.poll() is None and not handlers_installed(process.pid):
                time.sleep(0.001)
            deadline = time.monotonic() + timeout_s
            while ready is not None and process.poll() is None and not ready(out_path.read_text()):
                assert time.monotonic() < deadline, out_path.read_text()
                time.sleep(0.01)
        if delay_s is not None and process.poll() is None:
            sent = time.monotonic() - started
            os.killpg(process.pid, sig)
        try:
            code = process.wait(timeout=timeout_s)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if process.stdin is not None:
                process.stdin.close()
    return Run(code, out_path.read_text(), err_path.read_text(), sent)


def rows(db: Path, sql: str) -> list[tuple]:
    """The query's rows; none for a database not there or not created yet (no such table)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line mentions ``text`` (a run's private directory)."""
    found = []
    needle = text.encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def wait_until_gone(text: str, timeout_s: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while (left := processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
