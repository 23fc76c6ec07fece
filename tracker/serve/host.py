"""`tracker serve`: one long-running process per database that hosts services.

The host owns the process: the serve lock, signals, the services' life cycle
and the log. Services plug in (``Service``): the warm validation worker with
its hand-off socket (``tracker.serve.validation``), the reminder scheduler.
Each calls the same use cases the CLI calls; none knows about the others.

One serve per database, decided by an ``flock`` on a lock file beside the
database (``tracker.db.serve.lock``; for PostgreSQL in the user's runtime
dir): the kernel drops the lock when the holder dies, however it dies, so a
crashed serve never blocks the next one, and a second serve exits 3 without
touching anything of the first one's (its socket, its spool, the scheduler's
job store, which must never have two schedulers).

SIGTERM and SIGINT stop it cleanly: services stop in the reverse order they
started, then the lock is released. The log is one line per event on stderr.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, TextIO

from tracker.errors import EnvironmentProblem
from tracker.store import Store
from tracker.validation.wire import WarmPaths, warm_paths


class ServeAlreadyRunning(EnvironmentProblem):
    """Another ``tracker serve`` already runs for this database."""


class Service(Protocol):
    """A part of ``tracker serve``: started once, stopped once, on the host's threads or its own."""

    name: str

    def start(self, host: Host) -> None:
        """Start (threads, sockets); return once ready. Raise to abort the whole serve."""

    def stop(self) -> None:
        """Stop and release what ``start`` took; must not raise."""


class Log:
    """One line per event, prefixed, flushed, safe from every thread."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        stream = self.stream or sys.stderr
        with self._lock, contextlib.suppress(OSError, ValueError):
            stream.write(f"tracker serve: {message}\n")
            stream.flush()


@contextlib.contextmanager
def serve_lock(path: Path) -> Iterator[None]:
    """Hold the database's serve lock, or raise ServeAlreadyRunning at once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot open the serve lock {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise ServeAlreadyRunning(
                f"tracker serve already runs for this database{holder} (lock {path})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 32, 0).decode().strip()
        if text.isdigit():
            return f" (pid {text})"
    return ""


class Host:
    """What services get from the process: the store, the paths, the log, the stop signal."""

    def __init__(self, store: Store, *, log: Log | None = None) -> None:
        self.store = store
        self.paths: WarmPaths = warm_paths(store.location)
        self.log = log or Log()
        store.warn = self.log  # a failed automatic backup is a line of the serve log
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self, services: Sequence[Service], *, ready: str = "ready") -> None:
        """Hold the lock, start every service, wait for SIGTERM/SIGINT or ``stop``, stop them."""
        with serve_lock(self.paths.lock):
            started: list[Service] = []
            previous = self._handle_signals()
            try:
                for service in services:
                    service.start(self)
                    started.append(service)
                self.log(f"{ready}; Ctrl-C to stop")
                while not self.stopping.wait(0.5):
                    pass
            finally:
                for service in reversed(started):
                    begun = time.monotonic()
                    service.stop()
                    self.log(f"{service.name} stopped ({time.monotonic() - begun:.2f} s)")
                self._restore_signals(previous)
                self.log("stopped")

    def _handle_signals(self) -> dict[int, object]:
        if threading.current_thread() is not threading.main_thread():
            return {}  # a test's host in a thread: its caller stops it
        previous = {}
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(number, lambda *_: self.stop())
        return previous

    @staticmethod
    def _restore_signals(previous: dict[int, object]) -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)  # type: ignore[arg-type]
