"""The hand-off protocol between `tracker submit` and `tracker serve`, in one place.

Standard library only: the client speaks it before it has loaded anything heavy.

One connection per request, over the database's private socket
(``tracker.validation.wire``), one JSON line per message:

client -> server
    ``{"op": "ping"}``, or ``{"op": "submit", "v": VERSION, ...SubmitMessage fields}``.
server -> client, for ``submit``
    ``{"event": "accepted"}`` at once; then ``{"event": "progress"}`` every
    ``HEARTBEAT_S`` while the checks run; then one final reply:
    ``{"ok": true, "outcome": {...submit --json document...}, "exit_code": N}``,
    or ``{"ok": true, "error": "one line", "exit_code": N}`` for an error the
    learner must fix (an unknown lesson, an unreadable file), or
    ``{"ok": false, "error": "..."}``: not handled here, run it yourself.

Nothing of the client's environment passes: the client resolves the database,
the lessons folder, its settings and the time itself (``TRACKER_NOW``
included) and sends the values; the server checks every field and refuses a
request for another database or another lessons folder. Closing the
connection before the final reply cancels the request (Ctrl-C).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

VERSION = 2
HEARTBEAT_S = 1.0
CONNECT_TIMEOUT_S = 0.5  # a live server accepts at once
ACCEPT_TIMEOUT_S = 2.0  # ... and says "accepted" at once
SILENCE_TIMEOUT_S = 10.0  # longer without a heartbeat: the server is stopped or hung
DEVICES = ("auto", "cpu", "cuda", "mps")


def new_request_id() -> str:
    """An id for one submit request, made before it is handed off (recorded once by it)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class SubmitMessage:
    """A submit request as it travels: every value resolved by the client."""

    request_id: str
    lesson_id: str
    file: str  # absolute path
    device: str
    timeout: float | None
    for_review: bool
    database: str  # absolute SQLite path or server URL
    lessons_dir: str  # absolute
    settings: dict[str, Any]  # the client's settings, as ``config.settings_dict`` gives them
    now: str  # ISO 8601 with an offset

    def to_message(self) -> dict[str, Any]:
        message = {f.name: getattr(self, f.name) for f in fields(self)}
        return {"op": "submit", "v": VERSION, **message}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> SubmitMessage:
        """The request, every field type-checked; ValueError naming the first bad one."""
        if message.get("v") != VERSION:
            raise ValueError(f"protocol version {message.get('v')!r}, expected {VERSION}")
        text = {"request_id", "lesson_id", "file", "device", "database", "lessons_dir", "now"}
        for name in text:
            value = message.get(name)
            if not isinstance(value, str) or not value or len(value) > 4096:
                raise ValueError(f"{name} must be a non-empty string")
        if not (0 < len(message["request_id"]) <= 64 and message["request_id"].isalnum()):
            raise ValueError("request_id must be up to 64 letters and digits")
        if message["device"] not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}")
        timeout = message.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or not 0 < timeout <= 3600
        ):
            raise ValueError("timeout must be a number of seconds from 1 to 3600")
        if not isinstance(message.get("for_review"), bool):
            raise ValueError("for_review must be true or false")
        if not isinstance(message.get("settings"), dict):
            raise ValueError("settings must be an object")
        try:
            instant = datetime.fromisoformat(message["now"])
        except ValueError:
            raise ValueError("now must be an ISO 8601 datetime") from None
        if instant.tzinfo is None:
            raise ValueError("now must carry an offset")
        return cls(**{f.name: message[f.name] for f in fields(cls)})

    @property
    def instant(self) -> datetime:
        return datetime.fromisoformat(self.now)


def accepted() -> dict[str, Any]:
    return {"event": "accepted"}


def progress() -> dict[str, Any]:
    return {"event": "progress"}


def outcome_reply(outcome: dict[str, Any], exit_code: int) -> dict[str, Any]:
    return {"ok": True, "outcome": outcome, "exit_code": exit_code}


def error_reply(message: str, exit_code: int) -> dict[str, Any]:
    """An error the learner must fix, shown as the CLI shows it."""
    return {"ok": True, "error": message, "exit_code": exit_code}


def declined(reason: str) -> dict[str, Any]:
    """Not handled here: the client runs the command itself."""
    return {"ok": False, "error": reason}
