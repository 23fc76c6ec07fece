"""A one-line spinner on a terminal while something slow runs; nothing anywhere else.

Standard library only: the hand-off client shows it too. It writes to
stderr, only when stderr is a terminal, and wipes its line when done, so
stdout (a verdict, a JSON document) is never touched.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from tracker.render.style import can_encode

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ASCII_FRAMES = "|/-\\"
TICK_S = 0.1


class Spinner:
    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.frames = FRAMES if can_encode(self.stream, FRAMES) else ASCII_FRAMES
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _spin(self) -> None:
        started = time.monotonic()
        frame = 0
        while not self._stop.wait(TICK_S):
            elapsed = time.monotonic() - started
            text = f"\r{self.frames[frame % len(self.frames)]} {self.label} {elapsed:.0f} s"
            with contextlib.suppress(OSError, ValueError):
                self.stream.write(text)
                self.stream.flush()
            frame += 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self._spin, name="spinner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        with contextlib.suppress(OSError, ValueError):
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def spinning(label: str, *, enabled: bool = True) -> Iterator[None]:
    """Show a spinner with ``label`` while the block runs, if stderr is a terminal."""
    if not enabled or not _is_terminal(sys.stderr):
        yield
        return
    spinner = Spinner(label)
    spinner.start()
    try:
        yield
    finally:
        spinner.stop()
