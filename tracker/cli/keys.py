"""Answers at a prompt: one key on a terminal (no Enter needed), a line otherwise.

On a terminal the learner presses 1-4 or space and the review moves on, as in
Anki. Piped input (scripts, tests) is read a line at a time, so "good" or "3"
followed by a newline works the same. The end of input is ``EOFError`` for the
caller to turn into one line of text; Ctrl-C at a prompt is a
``KeyboardInterrupt`` (``tracker.interrupt.prompting``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO

import click

from tracker import interrupt


class Keys:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdin
        try:
            self.single = self.stream.isatty() and os.name == "posix"
        except (AttributeError, ValueError):
            self.single = False
        self._saved: list | None = None

    @contextlib.contextmanager
    def keypresses(self) -> Iterator[Keys]:
        """Single-key mode for a whole session, so a key pressed early is not held back.

        The terminal's own mode comes back at the end, and on Ctrl-C or SIGTERM too.
        """
        if not self.single:
            yield self
            return
        import termios
        import tty

        fd = self.stream.fileno()
        self._saved = termios.tcgetattr(fd)
        saved = self._saved

        def restore() -> None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)

        handle = interrupt.on_interrupt(restore)
        try:
            tty.setcbreak(fd)  # one key at a time; Ctrl-C still sends SIGINT
            yield self
        finally:
            restore()
            interrupt.discard(handle)
            self._saved = None

    def ask(self, prompt: str) -> str:
        """The answer: one character on a terminal ("\\n" for Enter), else the line stripped."""
        click.echo(f"{prompt} ", nl=False)
        with interrupt.prompting():
            if self.single:
                answer = self._key()
                click.echo("" if answer in ("\n", "\r") else answer.strip())
                return "\n" if answer in ("\r", "\n") else answer
            line = self.stream.readline()
        if line == "":
            click.echo()
            raise EOFError
        click.echo(line.rstrip("\n"))  # piped answers show in the transcript
        return line.strip()

    def _key(self) -> str:
        if self._saved is None:
            with self.keypresses():
                return self._key()
        data = os.read(self.stream.fileno(), 1)
        if not data:
            raise EOFError
        return data.decode(errors="replace")


def yes_no(keys: Keys, question: str, *, default: bool) -> bool:
    """y or n (Enter: ``default``); EOFError at the end of input."""
    hint = "[Y/n]" if default else "[y/N]"
    while True:
        answer = keys.ask(f"{question} {hint}").strip().lower()
        if answer in ("", "\n"):
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        click.echo("Answer y or n.")
