"""Where the database is, and engines configured the way tracker needs them.

SQLite gets foreign keys and a busy timeout on every connection (WAL is a
property of the file, set once when the schema is created, so opening a file
that turns out not to be ours never rewrites its header), and
write transactions start with ``BEGIN IMMEDIATE``: a deferred BEGIN that
reads and later writes fails at once under a concurrent writer, whatever the
timeout. Reads stay deferred so they never block a writer.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker.errors import DatabaseLocationError, DatabaseUnavailable, TrackerError

DB_ENV = "TRACKER_DB"
BUSY_TIMEOUT_MS = 5000
_WRITE = "tracker_write"


@dataclass(frozen=True)
class DatabaseLocation:
    """A resolved database: a SQLite file path, or a server URL."""

    url: str
    sqlite_path: Path | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.sqlite_path is not None

    def describe(self) -> str:
        if self.sqlite_path is not None:
            return str(self.sqlite_path)
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)


def default_db_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("tracker")) / "tracker.db"


def resolve_location(explicit: str | None, configured: str = "") -> DatabaseLocation:
    """``--db``, else ``TRACKER_DB``, else the config file, else the platform data dir."""
    for value in (explicit, os.environ.get(DB_ENV), configured):
        if value is None:
            continue
        if not value.strip():
            if value is explicit:
                raise DatabaseLocationError("--db is empty: give a file path or a database URL")
            continue
        return _parse_location(value.strip())
    path = default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return DatabaseLocation(url=f"sqlite+pysqlite:///{path}", sqlite_path=path)


def _parse_location(value: str) -> DatabaseLocation:
    if "://" in value:
        scheme = value.split("://", 1)[0].lower()
        if scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
            return DatabaseLocation(url="postgresql+psycopg://" + value.split("://", 1)[1])
        if scheme in {"sqlite", "sqlite+pysqlite"}:
            path_part = value.split("://", 1)[1].removeprefix("/")
            if not path_part or path_part == ":memory:":
                raise DatabaseLocationError(
                    "an in-memory database would forget everything: give a file"
                )
            return _sqlite_location(path_part)
        raise DatabaseLocationError(
            f"unsupported database URL scheme {scheme!r}: use a file path or postgresql+psycopg://"
        )
    return _sqlite_location(value)


def _sqlite_location(value: str) -> DatabaseLocation:
    path = Path(value).expanduser()
    if path.is_dir():
        raise DatabaseLocationError(f"database path {path} is a directory: give a file path")
    if not path.parent.is_dir():
        raise DatabaseLocationError(f"directory {path.parent} does not exist")
    path = path.resolve()
    return DatabaseLocation(url=f"sqlite+pysqlite:///{path}", sqlite_path=path)


def create_engine_for(location: DatabaseLocation, *, foreign_keys: bool = True) -> Engine:
    """An engine for ``location``; migrations pass ``foreign_keys=False`` (batch rebuilds)."""
    if not location.is_sqlite:
        try:
            return create_engine(location.url, pool_pre_ping=False)
        except ModuleNotFoundError as exc:
            raise DatabaseUnavailable(
                "PostgreSQL needs psycopg: pip install 'tracker[postgres]'"
            ) from exc
    engine = create_engine(location.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

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


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write = one transaction: committed on success, rolled back on any error."""
    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


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
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        return DatabaseUnavailable(f"cannot write database {where}: {text.strip()}")
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return DatabaseUnavailable(f"database {where}: {first_line}")
