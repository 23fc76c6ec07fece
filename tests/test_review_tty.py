"""The interactive review on a real pseudo-terminal: single keys, undo, wrapped text.

`tracker review` runs as a subprocess whose stdin and stdout are a pty, as in
a learner's terminal; the test presses keys (no Enter) once each prompt shows,
and reads the screen back.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

COLUMNS = 52
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _controlling_terminal() -> None:
    """In the child: a session of its own whose terminal is the pty, so Ctrl-C is SIGINT."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A `tracker` process on a pty: press keys, wait for text, read the screen."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracker", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            preexec_fn=_controlling_terminal,  # noqa: PLW1509 - as a shell starts a program
        )
        os.close(slave)
        self.screen = ""

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            with contextlib.suppress(OSError):  # the child closed the pty
                self.screen += os.read(self.master, 65536).decode(errors="replace")

    def wait_for(self, text: str, *, count: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.plain.count(text) < count:
            assert time.monotonic() < deadline, f"never saw {text!r}:\n{self.plain}"
            assert self.process.poll() is None or self._drain(), self.plain
            self._read(0.1)

    def _drain(self) -> bool:
        self._read(0.2)
        return True

    def press(self, key: str) -> None:
        os.write(self.master, key.encode())

    def finish(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            assert time.monotonic() < deadline, self.plain
            self._read(0.1)
        self._read(0.2)
        os.close(self.master)
        return self.process.returncode

    @property
    def plain(self) -> str:
        return ANSI.sub("", self.screen).replace("\r\n", "\n")


@pytest.fixture
def due_cards(tracker_env: Path, cli_run, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10T09:00")
    assert cli_run("learn", "transformer-1", "--yes").exit_code == 0
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR",)}
    env.update(TRACKER_NOW="2025-11-11T09:00", COLUMNS=str(COLUMNS), TERM="xterm")
    return env


def logs(db: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT card_id, rating FROM review_logs ORDER BY id").fetchall()


def test_single_keys_rate_undo_and_quit(due_cards: dict[str, str], db_path: Path) -> None:
    term = Terminal(["review"], due_cards)
    term.wait_for("Show the answer")
    assert "[1/" in term.plain
    term.press(" ")  # reveal, no Enter
    term.wait_for("Rate 1-4")
    assert re.search(r"1 again \S+ · 2 hard \S+ · 3 good \S+ · 4 easy \S+", term.plain)
    term.press("2")  # hard, at once
    term.wait_for("rated hard")
    term.wait_for("Show the answer", count=2)
    term.press("u")  # undo: card 1 comes back
    term.wait_for("undid card 1's hard rating of 2025-11-11")
    term.wait_for("Show the answer", count=3)
    assert term.plain.count("[1/") == 2
    term.press("\r")  # reveal with Enter
    term.wait_for("Rate 1-4", count=2)
    term.press(" ")  # space: good
    term.wait_for("rated good")
    term.wait_for("Show the answer", count=4)
    term.press("q")
    assert term.finish() == 0
    screen = term.plain
    assert "Stopped; every rating so far is saved." in screen
    assert logs(db_path) == [(1, 3)]  # the undone hard left the ledger; good stayed
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT card_id, rating, reason FROM retracted_reviews").fetchall() == [
            (1, 2, "undo")
        ]
    # Questions and answers wrap at word boundaries to the terminal's width.
    text = [line for line in screen.splitlines() if line.startswith(("Q: ", "A: ", "   "))]
    assert len(text) > 6 and all(len(line) <= COLUMNS for line in text), text
    assert any(line.startswith("   ") for line in text)  # some did need a second line


def test_ctrl_c_at_a_prompt_keeps_what_was_rated(due_cards: dict[str, str], db_path: Path) -> None:
    term = Terminal(["review"], due_cards)
    term.wait_for("Show the answer")
    term.press(" ")
    term.wait_for("Rate 1-4")
    term.press("4")
    term.wait_for("Show the answer", count=2)
    term.press("\x03")  # Ctrl-C at the prompt
    assert term.finish() == 130
    assert "Stopped; every rating so far is saved." in term.plain
    assert "Interrupted: every rating so far is saved." in term.plain
    assert "Traceback" not in term.plain
    assert logs(db_path) == [(1, 4)]


def test_undo_outside_a_session(
    due_cards: dict[str, str],
    db_path: Path,
    cli_run,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-11T09:00")
    assert cli_run("review", "2", "--rating", "again").exit_code == 0
    result = cli_run("review", "--undo")
    assert result.exit_code == 0
    assert (
        result.stdout.strip()
        == "undid card 2's again rating of 2025-11-11; it is due 2025-11-10 again"
    )
    assert logs(db_path) == []
    nothing = cli_run("review", "--undo")
    assert nothing.exit_code == 1
    assert nothing.stderr.strip() == (
        "Error: nothing to undo: no rating made with `tracker review` yet"
    )
