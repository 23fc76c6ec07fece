"""Where the database is: ``--db``, ``TRACKER_DB``, the config file, else the data dir.

Free of SQLAlchemy, so a command that only needs the location (``submit``
handing its work to a running ``tracker serve``) starts in milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from tracker.errors import DatabaseLocationError

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
