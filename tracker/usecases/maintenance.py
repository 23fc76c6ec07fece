"""Database upkeep behind `tracker db`: check, backup, explicit upgrade.

These never upgrade or sync implicitly: `db check` must report what it finds
without changing it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from tracker.db.engine import DatabaseLocation, translate_error
from tracker.db.schema import (
    HEAD_REVISION,
    backup_sqlite,
    check_backup_name,
    check_upgradable,
    journal_mode,
    read_schema_state,
    upgrade_schema,
)
from tracker.errors import UsageError
from tracker.store import Store


@dataclass
class CheckReport:
    location: str
    revision: str | None
    head: str = HEAD_REVISION
    problems: list[str] = field(default_factory=list)
    journal_mode: str | None = None  # SQLite only

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "location": self.location,
            "revision": self.revision,
            "head": self.head,
            "journal_mode": self.journal_mode,
            "ok": self.ok,
            "problems": self.problems,
        }


@contextmanager
def _engine(store: Store) -> Iterator[tuple[DatabaseLocation, Engine]]:
    """The store's location and engine, driver errors as one-line messages."""
    try:
        yield store.location, store.engine
    except DBAPIError as exc:
        raise translate_error(exc, store.location) from exc


def check_database(store: Store) -> CheckReport:
    from tracker.curriculum.fingerprint import fingerprint, stored_fingerprint
    from tracker.resources import lessons_dir

    with _engine(store) as (location, engine):
        if location.sqlite_path is not None and not location.sqlite_path.exists():
            return CheckReport(
                location.describe(), None, problems=["no database here yet: run `tracker init`"]
            )
        state = read_schema_state(engine)
        report = CheckReport(location.describe(), state.revision)
        if state.revision != HEAD_REVISION:
            # Newer than this tracker, or not a tracker database: no upgrade can help (exit 3).
            check_upgradable(state, location)
            report.problems.append(
                f"schema is at {state.revision or 'nothing'}, head is {HEAD_REVISION}: "
                "run `tracker db upgrade`"
            )
            return report
        if engine.dialect.name == "sqlite":
            report.journal_mode = journal_mode(engine)
            if report.journal_mode != "wal":
                report.problems.append(
                    f"journal mode is {report.journal_mode}, not wal (concurrent commands wait "
                    "on each other and a crash can cost more): any tracker command that can "
                    "write the file sets it"
                )
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                integrity = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
                if integrity != ["ok"]:
                    report.problems += [f"integrity: {line}" for line in integrity[:10]]
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    report.problems.append(
                        f"{len(broken)} references point at missing rows (foreign keys)"
                    )
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            if stored_fingerprint(session) != fingerprint(lessons_dir()):
                report.problems.append("curriculum is not synced with lessons/: run `tracker init`")
        return report


def backup_database(store: Store, destination: Path) -> Path:
    """A verified copy of the SQLite database at ``destination`` (never over a file)."""
    from tracker.paths import os_problem, user_path

    with _engine(store) as (location, engine):
        if location.sqlite_path is None:
            raise UsageError("backup copies SQLite files; for PostgreSQL use pg_dump")
        if not location.sqlite_path.exists():
            raise UsageError(f"no database at {location.sqlite_path} to back up")
        destination = user_path(str(destination), what="backup path")
        check_backup_name(destination)
        try:
            if destination.exists() or destination.is_symlink():
                raise UsageError(f"{destination} already exists; choose a new file name")
            if not destination.parent.is_dir():
                raise UsageError(f"directory {destination.parent} does not exist")
            destination = destination.parent.resolve() / destination.name
        except OSError as exc:
            raise UsageError(f"backup path {destination}: {os_problem(exc)}") from None
        read_schema_state(engine)  # a corrupt file fails here with exit 3, before any write
        return backup_sqlite(location.sqlite_path, destination=destination)


def upgrade_database(store: Store, *, now: datetime) -> str:
    with _engine(store) as (location, engine):
        state = read_schema_state(engine)
        if state.revision == HEAD_REVISION:
            return f"schema already at head ({HEAD_REVISION})"
        check_upgradable(state, location)
        report = upgrade_schema(location, state.revision, now=now)
        return report.describe() if report else f"schema already at head ({HEAD_REVISION})"
