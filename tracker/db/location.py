"""Where the database is: ``--db``, ``TRACKER_DB``, the config file, else the data dir.

Free of SQLAlchemy, so a command that only needs the location (``submit``
handing its work to a running ``tracker serve``) starts in milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from tracker.errors import DatabaseLocationError
from tracker.paths import os_problem, user_dir, user_path

DB_ENV = "TRACKER_DB"


class DatabaseLocation(NamedTuple):
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
    return user_dir("data") / "tracker.db"


def resolve_location(explicit: str | None, configured: str = "") -> DatabaseLocation:
    """``--db``, else ``TRACKER_DB``, else the config file, else the platform data dir."""
    for value, source in (
        (explicit, "--db"),
        (os.environ.get(DB_ENV), DB_ENV),
        (configured, "db in the config file"),
    ):
        if value is None:
            continue
        if not value.strip():
            if value is explicit:
                raise DatabaseLocationError("--db is empty: give a file path or a database URL")
            continue
        return _parse_location(value.strip(), source)
    path = default_db_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseLocationError(
            f"cannot create the data directory {path.parent}: {os_problem(exc)}"
        ) from None
    return DatabaseLocation(url=f"sqlite+pysqlite:///{path}", sqlite_path=path)


def _parse_location(value: str, source: str = "--db") -> DatabaseLocation:
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
            return _sqlite_location(path_part, source)
        raise DatabaseLocationError(
            f"unsupported database URL scheme {scheme!r}: use a file path or postgresql+psycopg://"
        )
    return _sqlite_location(value, source)


def _file_kind(path: Path) -> str:
    import stat

    mode = path.stat().st_mode
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "of an unknown kind"


def _sqlite_location(value: str, source: str = "--db") -> DatabaseLocation:
    path = user_path(value, what=source, error=DatabaseLocationError)
    try:
        if path.is_dir():
            raise DatabaseLocationError(f"database path {path} is a directory: give a file path")
        if path.exists() and not path.is_file():
            # SQLite would wait forever to open a FIFO and read a device as an empty disk.
            raise DatabaseLocationError(
                f"database path {path} is {_file_kind(path)}, not a file: give a file path"
            )
        if not path.parent.is_dir():
            raise DatabaseLocationError(f"directory {path.parent} does not exist")
        path = path.resolve()
    except OSError as exc:  # a parent that is a file, no permission to look, a loop of links
        raise DatabaseLocationError(f"{source} {path}: {os_problem(exc)}") from None
    return DatabaseLocation(url=f"sqlite+pysqlite:///{path}", sqlite_path=path)
