"""A real `tracker serve` for the tests that need one, and ways to talk to it."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tracker.db.location import resolve_location
from tracker.validation.wire import (
    LineReader,
    WarmPaths,
    send_message,
    socket_address,
    socket_is_private,
    warm_paths,
)

ROOT = Path(__file__).resolve().parents[1]
TRACKER = [sys.executable, "-m", "tracker"]


def bwrap_works() -> bool:
    from tracker.validation.sandbox import bubblewrap_works

    return bubblewrap_works()


def ask(path: Path, message: dict[str, Any], timeout: float = 10.0) -> list[dict[str, Any]]:
    """Every message the server sends back for ``message``, up to its final reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        with socket_address(path) as address:
            conn.connect(address)
        send_message(conn, message)
        reader = LineReader(conn)
        replies = [reader.next()]
        while "event" in replies[-1]:
            replies.append(reader.next())
        return replies


def ping(path: Path, timeout: float = 1.0) -> dict[str, Any] | None:
    if not socket_is_private(path):
        return None
    try:
        reply = ask(path, {"op": "ping"}, timeout)[-1]
    except (OSError, ValueError):
        return None
    return reply if reply.get("ok") is True else None


@dataclass
class Served:
    process: subprocess.Popen
    db: Path
    log: Path

    @property
    def paths(self) -> WarmPaths:
        return warm_paths(resolve_location(str(self.db)))

    def info(self) -> dict[str, Any]:
        reply = ping(self.paths.socket, timeout=5.0)
        assert reply is not None, self.log.read_text()
        return reply

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "TRACKER_NOW"}
        env.update(serve_env(self.db.parent))
        env.update(extra)
        return env

    def submit(self, *args: str, now: str | None = None, **kw: Any) -> subprocess.CompletedProcess:
        env = self.env(**({"TRACKER_NOW": now} if now else {}))
        return subprocess.run(
            [*TRACKER, "submit", *args], capture_output=True, text=True, env=env, timeout=180, **kw
        )

    def rows(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql).fetchall()


def serve_env(folder: Path) -> dict[str, str]:
    config = folder / "config.toml"
    if not config.exists():
        config.write_text('timezone = "UTC"\n')
    return {"TRACKER_DB": str(folder / "tracker.db"), "TRACKER_CONFIG": str(config)}


def start_serve(folder: Path, **extra_env: str) -> Served:
    log = folder / "serve.log"
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_NOW"}
    process = subprocess.Popen(
        [*TRACKER, "serve"],
        env={**env, **serve_env(folder), **extra_env},
        stdout=subprocess.DEVNULL,
        stderr=log.open("a"),
    )
    served = Served(process, folder / "tracker.db", log)
    deadline = time.monotonic() + 90
    while ping(served.paths.socket) is None:
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return served


def stop_serve(served: Served) -> int:
    if served.process.poll() is not None:
        return served.process.returncode
    served.process.send_signal(signal.SIGTERM)
    return served.process.wait(timeout=30)


def serve_fixture(tmp_path_factory: pytest.TempPathFactory, name: str):  # noqa: ANN201
    if not bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    running = start_serve(tmp_path_factory.mktemp(name))
    yield running
    stop_serve(running)
