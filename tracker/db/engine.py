"""Where the database is, and engines configured the way tracker needs them.

SQLite gets foreign keys and a busy timeout on every connection (WAL is a
property of the file: set before a new file's first table, and checked by
every command that opens a tracker database, ``schema.ensure_wal``, but not
here, so opening a file that turns out not to be ours never rewrites its
header), and
write transactions start with ``BEGIN IMMEDIATE``: a deferred BEGIN that
reads and later writes fails at once under a concurrent writer, whatever the
timeout. Reads stay deferred so they never block a writer.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker.db.location import (  # noqa: F401 - re-exported: the engine's callers use them
    DB_ENV,
    DatabaseLocation,
    default_db_path,
    resolve_location,
)
from tracker.errors import DatabaseUnavailable, TrackerError

BUSY_TIMEOUT_MS = 5000
WRITE_LOCK_KEY = 0x747261636B6572  # "tracker": the PostgreSQL advisory lock of writers
_WRITE = "tracker_write"


def create_engine_for(location: DatabaseLocation, *, foreign_keys: bool = True) -> Engine:
    """An engine for ``location``; migrations pass ``foreign_keys=False`` (batch rebuilds)."""
    if not location.is_sqlite:
        try:
            return create_engine(location.url, pool_pre_ping=False)
        except ModuleNotFoundError as exc:
            raise DatabaseUnavailable(
                "PostgreSQL needs psycopg: pip install 'tracker[postgres]'"
            ) from exc
    # URL.create, not the URL string: a path may hold "?", "#" or "%".
    url = URL.create("sqlite+pysqlite", database=str(location.sqlite_path))
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: object) -> None:
        write = connection.get_execution_options().get(_WRITE, False)  # type: ignore[attr-defined]
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")  # type: ignore[attr-defined]

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take the write lock up front (SQLite)."""
    return engine.execution_options(**{_WRITE: True})


def take_write_lock(connection: Connection) -> None:
    """PostgreSQL's counterpart of SQLite's BEGIN IMMEDIATE: one writer at a time.

    Writes read before they insert (is there a check-in today? progress for this
    lesson?); two concurrent writers would both read "no" and one would then fail
    on a unique constraint. A transaction-scoped advisory lock serialises them.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write = one transaction: committed on success, rolled back on any error."""
    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        take_write_lock(session.connection())
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


# Driver messages that say "the file system refused" without saying why.
_FILE_SIGNS = ("unable to open", "readonly", "read-only", "disk i/o", "disk is full")
FULL_BELOW_BYTES = 1 << 20  # less free than this: a write of a few pages may not fit


def file_problem(path: Path) -> str | None:
    """Why the file system refuses SQLite ``path``, found by asking it; None if it does not.

    SQLite says "unable to open database file" for a file it may not read and
    "disk I/O error" when its shared-memory file cannot grow on a full disk:
    true, but not what a user can act on.
    """
    directory = path.parent
    if path.exists():
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            return f"cannot read it ({exc.strerror or type(exc).__name__})"
    try:
        stats = os.statvfs(directory)
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY:
        return "it is on a read-only file system"
    if stats.f_bavail * stats.f_frsize < FULL_BELOW_BYTES:
        free = stats.f_bavail * stats.f_frsize // 1024
        return f"the disk is full ({free} KiB free in {directory}); free some space and try again"
    if not os.access(directory, os.W_OK | os.X_OK):
        return (
            f"its directory {directory} is read-only to you, and SQLite must create "
            f"{path.name}-wal and {path.name}-shm beside it"
        )
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only to you"
    return None


def translate_error(exc: DBAPIError, location: DatabaseLocation) -> TrackerError:
    """A driver error as the one-line message a user can act on (exit 3)."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    where = location.describe()
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return DatabaseUnavailable(
            f"database {where} is locked by another tracker process "
            f"(waited {BUSY_TIMEOUT_MS // 1000} s); try again"
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return DatabaseUnavailable(f"{where} is not a readable tracker database ({text.strip()})")
    if location.sqlite_path is not None and any(sign in lowered for sign in _FILE_SIGNS):
        problem = file_problem(location.sqlite_path)
        if problem is not None:
            return DatabaseUnavailable(f"cannot use database {where}: {problem}")
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        return DatabaseUnavailable(f"cannot write database {where}: {text.strip()}")
    if "disk is full" in lowered:
        return DatabaseUnavailable(
            f"cannot write database {where}: the disk is full; free some space and try again"
        )
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return DatabaseUnavailable(f"database {where}: {first_line}")
