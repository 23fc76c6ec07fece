"""The wire between ``submit`` and ``tracker serve``: where the socket is, and messages.

Standard library only (platformdirs for PostgreSQL's runtime dir), so the
hand-off in ``tracker.handoff`` can reach a running server in milliseconds;
``tracker.validation.warm`` builds the executor on top of it.

Wire protocol: one JSON line each way per connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from tracker.db.location import DatabaseLocation

MAX_MESSAGE_BYTES = 1024 * 1024
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; longer paths go through /proc/self/fd


class WarmPaths(NamedTuple):
    """Where ``tracker serve`` puts its socket and its spool of warm job dirs."""

    socket: Path
    spool: Path


def warm_paths(location: DatabaseLocation) -> WarmPaths:
    if location.sqlite_path is not None:
        db = location.sqlite_path
        return WarmPaths(db.with_name(db.name + ".sock"), db.with_name(db.name + ".spool"))
    import warnings

    import platformdirs

    with warnings.catch_warnings():  # no XDG_RUNTIME_DIR: platformdirs warns, we fall back
        warnings.simplefilter("ignore")
        runtime = Path(platformdirs.user_runtime_dir("tracker"))
    root = runtime if runtime.parent.is_dir() else Path(platformdirs.user_data_dir("tracker"))
    import hashlib

    key = hashlib.sha256(location.describe().encode()).hexdigest()[:12]
    return WarmPaths(root / f"pg-{key}.sock", root / f"pg-{key}.spool")


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


def send_message(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def receive_message(conn: socket.socket) -> dict[str, Any]:
    """One JSON line; ValueError when the peer sent nothing usable."""
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_MESSAGE_BYTES:
            raise ValueError("message too long")
    if not data:
        raise ValueError("connection closed without a reply")
    message = json.loads(data)
    if not isinstance(message, dict):
        raise ValueError("message is not a JSON object")
    return message


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
