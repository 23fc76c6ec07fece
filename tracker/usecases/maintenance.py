"""Database upkeep behind `tracker db`: check (and repair), backup, backups, restore, upgrade.

These never upgrade or sync implicitly: `db check` must report what it finds
without changing it; `db check --repair` changes only what it reports, after
a backup.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from tracker.db.backups import BackupFile
from tracker.db.engine import DatabaseLocation, translate_error
from tracker.db.schema import (
    HEAD_REVISION,
    backup_sqlite,
    check_backup_name,
    check_upgradable,
    ensure_wal,
    journal_mode,
    read_schema_state,
    upgrade_schema,
)
from tracker.errors import EnvironmentProblem, UsageError
from tracker.store import Store


@dataclass
class CheckReport:
    location: str
    revision: str | None
    head: str = HEAD_REVISION
    problems: list[str] = field(default_factory=list)
    journal_mode: str | None = None  # SQLite only
    repaired: list[str] = field(default_factory=list)  # what --repair did
    backup: Path | None = None  # the copy --repair took first

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
            "repaired": self.repaired,
            "backup": str(self.backup) if self.backup is not None else None,
        }


@contextmanager
def _engine(store: Store) -> Iterator[tuple[DatabaseLocation, Engine]]:
    """The store's location and engine, driver errors as one-line messages."""
    try:
        yield store.location, store.engine
    except DBAPIError as exc:
        raise translate_error(exc, store.location) from exc


def check_database(
    store: Store, *, repair: bool = False, now: datetime | None = None
) -> CheckReport:
    """What is wrong with the database; with ``repair``, the rows fixed first.

    ``now`` dates the backup a repair takes before it changes anything.
    """
    from tracker.curriculum.fingerprint import fingerprint, stored_fingerprint
    from tracker.integrity import find_problems
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
            with engine.connect() as conn:
                integrity = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
            if integrity == ["ok"] and report.journal_mode != "wal" and repair:
                report.journal_mode = ensure_wal(engine)
                if report.journal_mode == "wal":
                    report.repaired.append("journal mode set to wal")
            if report.journal_mode != "wal":
                report.problems.append(
                    f"journal mode is {report.journal_mode}, not wal (concurrent commands wait "
                    "on each other and a crash can cost more): any tracker command that can "
                    "write the file sets it"
                )
            if integrity != ["ok"]:  # a damaged file is left as it is: a backup is the way back
                report.problems += [f"integrity: {line}" for line in integrity[:10]]
                report.problems.append(
                    "the file itself is damaged: restore a backup (`tracker db backups`)"
                )
                return report
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            findings = find_problems(session)
            if stored_fingerprint(session) != fingerprint(lessons_dir()):
                report.problems.append("curriculum is not synced with lessons/: run `tracker init`")
        if repair and findings.problems:
            report.backup, done = _repair(store, now=now or store.now())
            report.repaired += done
            with Session(engine) as session:
                findings = find_problems(session)
        report.problems[:0] = findings.problems
        return report


def _repair(store: Store, *, now: datetime) -> tuple[Path | None, list[str]]:
    """Back the file up, then fix the rows in one write (SQLite: foreign keys off)."""
    from tracker.db.engine import create_engine_for, take_write_lock, writer
    from tracker.integrity import repair

    location = store.location
    backup = None
    if location.sqlite_path is not None:
        from tracker.db.backups import make_backup
        from tracker.paths import os_problem

        try:
            backup, _ = make_backup(
                location.sqlite_path, now=now, kind="before-repair", day_of=store.clock.local_day
            )
        except OSError as exc:
            raise EnvironmentProblem(
                f"no repair without a backup, and it failed: {os_problem(exc)}"
            ) from None
    engine = create_engine_for(location, foreign_keys=False)
    try:
        from sqlalchemy.orm import Session

        with Session(writer(engine)) as session, session.begin():
            take_write_lock(session.connection())
            done = repair(session, settings=store.settings)
    finally:
        engine.dispose()
    return backup, done


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


@dataclass(frozen=True)
class BackupListing:
    folder: Path
    backups: list[BackupFile]

    def as_dict(self) -> list[dict[str, object]]:
        return [backup.as_dict() for backup in self.backups]


def list_database_backups(store: Store) -> BackupListing:
    """The automatic backups of a SQLite database, oldest first."""
    from tracker.db.backups import backup_folder, list_backups

    path = _sqlite_path(store, "automatic backups")
    return BackupListing(backup_folder(path), list_backups(path, day_of=store.clock.local_day))


@dataclass(frozen=True)
class RestoreResult:
    source: Path
    database: Path
    previous: Path | None  # the copy of what was there; None when there was no file

    def describe(self) -> str:
        saved = (
            f"; the previous state was saved to {self.previous}"
            if self.previous is not None
            else "; there was no database there before"
        )
        return f"restored {self.database} from {self.source}{saved}"

    def as_dict(self) -> dict[str, object]:
        return {
            "source": str(self.source),
            "database": str(self.database),
            "previous": str(self.previous) if self.previous is not None else None,
        }


def restore_database(store: Store, source: Path, *, now: datetime) -> RestoreResult:
    """Put a backup in place of the database, after saving the current state as a backup."""
    from tracker.db.backups import check_backup_file, restore_sqlite, save_current_state
    from tracker.paths import os_problem, user_path

    database = _sqlite_path(store, "restore")
    source = user_path(str(source), what="backup path")
    try:
        source = source.resolve()
    except OSError as exc:
        raise UsageError(f"{source}: {os_problem(exc)}") from None
    if source == database:
        raise UsageError(f"{source} is the database itself; give a backup of it")
    check_backup_file(source)
    _refuse_while_serving(store)
    store.engine.dispose()  # no pooled connection of ours holds the file meanwhile
    previous = None
    try:
        if database.exists():
            previous = save_current_state(
                database, now=now, day_of=store.clock.local_day, source=source
            )
        restore_sqlite(source, database)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise EnvironmentProblem(f"cannot restore{where}: {os_problem(exc)}") from None
    return RestoreResult(source=source, database=database, previous=previous)


def _refuse_while_serving(store: Store) -> None:
    """`tracker serve` keeps its scheduler's jobs in the database: it must not see it swapped."""
    import fcntl
    import os

    from tracker.validation.wire import warm_paths

    lock = warm_paths(store.location).lock
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return  # no lock file: no serve ever ran here
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise EnvironmentProblem(
            f"tracker serve is running for this database (lock {lock}): stop it, then restore"
        ) from None
    finally:
        os.close(fd)


def _sqlite_path(store: Store, what: str) -> Path:
    path = store.location.sqlite_path
    if path is None:
        raise UsageError(f"{what}: tracker keeps file backups of SQLite only; use pg_dump")
    return path
