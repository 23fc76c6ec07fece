"""The wire between ``submit`` and ``tracker serve``: where the socket is, and framing.

Standard library only (platformdirs for PostgreSQL's runtime dir), so the
hand-off in ``tracker.handoff`` can reach a running server in milliseconds.
What the messages say is ``tracker.validation.protocol``'s.

Framing: JSON objects, one per line.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from tracker.db.location import DatabaseLocation

MAX_MESSAGE_BYTES = 1024 * 1024
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; longer paths go through /proc/self/fd


class WarmPaths(NamedTuple):
    """Where ``tracker serve`` puts its socket, its spool of warm job dirs, and its lock."""

    socket: Path
    spool: Path
    lock: Path  # held (flock) by the one serve of this database


def warm_paths(location: DatabaseLocation) -> WarmPaths:
    if location.sqlite_path is not None:
        db = location.sqlite_path
        return WarmPaths(
            db.with_name(db.name + ".sock"),
            db.with_name(db.name + ".spool"),
            db.with_name(db.name + ".serve.lock"),
        )
    import warnings

    import platformdirs

    with warnings.catch_warnings():  # no XDG_RUNTIME_DIR: platformdirs warns, we fall back
        warnings.simplefilter("ignore")
        runtime = Path(platformdirs.user_runtime_dir("tracker"))
    root = runtime if runtime.parent.is_dir() else Path(platformdirs.user_data_dir("tracker"))
    import hashlib

    key = hashlib.sha256(location.describe().encode()).hexdigest()[:12]
    return WarmPaths(root / f"pg-{key}.sock", root / f"pg-{key}.spool", root / f"pg-{key}.lock")


@contextlib.contextmanager
def socket_address(path: Path) -> Iterator[str]:
    """``path`` as an AF_UNIX address, through /proc/self/fd when it is too long."""
    if len(os.fsencode(str(path))) <= SOCKET_PATH_MAX:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def send_message(conn: socket.socket, message: dict[str, Any]) -> None:
    """One JSON line; dates and datetimes travel as ISO 8601 text."""
    conn.sendall(json.dumps(message, default=_iso).encode() + b"\n")


class LineReader:
    """JSON lines from one connection, several per connection; socket timeouts apply."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = bytearray()

    def next(self) -> dict[str, Any]:
        """The next message; ValueError when the peer closed or sent nothing usable."""
        while b"\n" not in self.buffer:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise ValueError("connection closed without a reply")
            self.buffer += chunk
            if len(self.buffer) > MAX_MESSAGE_BYTES:
                raise ValueError("message too long")
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer[:] = rest
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("message is not a JSON object")
        return message


def receive_message(conn: socket.socket) -> dict[str, Any]:
    """One JSON line; ValueError when the peer sent nothing usable."""
    return LineReader(conn).next()


def socket_is_private(path: Path) -> bool:
    """A socket owned by this user that nobody else may open (mode 0600)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISSOCK(info.st_mode)
        and info.st_uid == os.geteuid()
        and stat.S_IMODE(info.st_mode) == 0o600
    )
