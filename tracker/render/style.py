"""Colour and marks that respect the reader: ``NO_COLOR``, ``--no-color``, pipes, encodings.

Standard library only (the hand-off client renders with it). Colour is on only
for a terminal, and never when ``NO_COLOR`` is set to anything non-empty
(https://no-color.org) or ``--no-color`` was given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def wants_color(stream: TextIO, *, no_color: bool = False) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def can_encode(stream: TextIO, text: str) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


@dataclass(frozen=True)
class Style:
    """How to decorate text for one stream."""

    color: bool = False
    unicode: bool = True

    @classmethod
    def for_stream(cls, stream: TextIO, *, no_color: bool = False) -> Style:
        return cls(
            color=wants_color(stream, no_color=no_color), unicode=can_encode(stream, "✓✗·—█░")
        )

    def paint(self, text: str, *names: str) -> str:
        if not self.color or not names:
            return text
        codes = ";".join(_CODES[name] for name in names)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")

    @property
    def ok(self) -> str:
        return self.paint("✓" if self.unicode else "+", "green")

    @property
    def bad(self) -> str:
        return self.paint("✗" if self.unicode else "x", "red")

    @property
    def skip(self) -> str:
        return self.paint("-", "dim")


PLAIN = Style(color=False, unicode=True)
