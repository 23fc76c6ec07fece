"""Keep a database's schema at the head revision, cheaply on the daily path.

The stored revision is compared with ``HEAD_REVISION`` (``tracker.db.revisions``)
in plain SQL; Alembic is imported only when an upgrade is due.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from tracker.db.engine import DatabaseLocation, create_engine_for, take_write_lock, writer
from tracker.db.revisions import HEAD_REVISION, REVISIONS  # noqa: F401 - re-exported
from tracker.errors import DatabaseUnavailable, UsageError
from tracker.faults import crash_point
from tracker.paths import os_problem


@dataclass(frozen=True)
class SchemaState:
    revision: str | None  # None: no alembic_version table
    has_tables: bool


@dataclass(frozen=True)
class UpgradeReport:
    from_revision: str | None
    to_revision: str
    backup_path: Path | None

    def describe(self) -> str:
        if self.from_revision is None:
            return f"created a new tracker database (schema {self.to_revision})"
        message = f"upgraded database schema {self.from_revision} -> {self.to_revision}"
        if self.backup_path is not None:
            message += f"; the previous file was copied to {self.backup_path}"
        return message


def read_schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return schema_state(conn)


def schema_state(conn: Connection) -> SchemaState:
    if conn.dialect.name == "sqlite":
        names = {
            row[0]
            for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    else:
        names = {
            row[0]
            for row in conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            )
        }
    revision = None
    if "alembic_version" in names:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return SchemaState(revision=revision, has_tables=bool(names - {"alembic_version"}))


def ensure_schema(
    engine: Engine,
    location: DatabaseLocation,
    *,
    now: datetime,
    day_of: Callable[[datetime], date] | None = None,
) -> UpgradeReport | None:
    """Create or upgrade the schema when needed; None when it was already current.

    A current SQLite database also gets WAL back if it lost it (a crash during
    its creation, a copy made by hand): a cheap query when it is already set.
    """
    state = read_schema_state(engine)
    if state.revision == HEAD_REVISION:
        if engine.dialect.name == "sqlite":
            ensure_wal(engine)
        return None
    check_upgradable(state, location)
    return upgrade_schema(location, state.revision, now=now, day_of=day_of)


def journal_mode(engine: Engine) -> str:
    """SQLite's journal mode for this file, as found (``wal``, ``delete``, ...)."""
    raw = engine.raw_connection()
    try:
        return str(raw.cursor().execute("PRAGMA journal_mode").fetchone()[0]).lower()
    finally:
        raw.close()


def ensure_wal(engine: Engine) -> str:
    """Put a SQLite file in WAL mode unless it is already; the mode it is in afterwards.

    Outside any transaction (the pragma cannot change the mode inside one): on
    a raw DBAPI connection, which the engine leaves in autocommit. A file this
    process may not write (or that another process holds exclusively) keeps
    its mode; `tracker db check` reports it.
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode != "wal":
            with contextlib.suppress(sqlite3.Error):  # read-only, or busy: tried again next time
                mode = str(cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        return mode
    finally:
        raw.close()


def check_upgradable(state: SchemaState, location: DatabaseLocation) -> None:
    if state.revision is None and state.has_tables:
        raise DatabaseUnavailable(
            f"{location.describe()} holds tables but is not a tracker database"
        )
    if state.revision is not None and state.revision not in REVISIONS:
        raise DatabaseUnavailable(
            f"{location.describe()} has schema {state.revision}, newer than this tracker "
            f"knows ({HEAD_REVISION}): upgrade tracker"
        )


def alembic_config():  # -> alembic.config.Config; untyped to keep alembic off the import path
    from alembic.config import Config

    from tracker.resources import alembic_ini, migrations_dir

    config = Config(str(alembic_ini()))
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def upgrade_schema(
    location: DatabaseLocation,
    from_revision: str | None,
    target: str = "head",
    *,
    now: datetime,
    day_of: Callable[[datetime], date] | None = None,
) -> UpgradeReport | None:
    """Run the migrations in one transaction (SQLite: with a backup first, foreign keys off).

    The revision is read again under the write lock, and the backup of a SQLite
    file (into ``backups/`` beside it; ``day_of`` gives a backup's learner-day
    for thinning) is made there, once, only when an upgrade is still due: of several
    commands started together on an old database, one copies and upgrades, the
    others find it done. None when another process brought it to head first.
    """
    from alembic import command

    engine = create_engine_for(location, foreign_keys=False)
    backup = None
    try:
        if engine.dialect.name == "sqlite" and from_revision is None:
            # A new file: WAL before the first table, so a crash mid-creation
            # cannot leave a database without it.
            ensure_wal(engine)
        with writer(engine).connect() as conn, conn.begin():
            take_write_lock(conn)
            revision = schema_state(conn).revision
            if revision == HEAD_REVISION and target == "head":
                return None  # another process did it while this one waited for the lock
            if location.sqlite_path is not None and revision is not None:
                # Under the lock: the file cannot change until this upgrade commits.
                from tracker.db.backups import make_backup, utc_day

                backup, _ = make_backup(
                    location.sqlite_path,
                    now=now,
                    kind=f"schema-{revision}",
                    day_of=day_of or utc_day,
                )
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, target)
            if engine.dialect.name == "sqlite":
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise DatabaseUnavailable(
                        f"upgrade left {len(broken)} broken references; nothing was changed"
                    )
        crash_point("schema-committed")  # the tests: a crash here must not cost WAL
        if engine.dialect.name == "sqlite":
            ensure_wal(engine)
    finally:
        engine.dispose()
    return UpgradeReport(from_revision=revision, to_revision=HEAD_REVISION, backup_path=backup)


SIDECAR_SUFFIXES = ("-wal", "-shm", "-journal")  # names SQLite gives its own files


def check_backup_name(destination: Path) -> None:
    """Refuse names SQLite gives its own files: ``b.db-wal`` would be deleted as b.db's WAL."""
    if destination.name.endswith(SIDECAR_SUFFIXES):
        suffix = "-" + destination.name.rsplit("-", 1)[1]
        raise UsageError(
            f"{destination.name} ends in {suffix}, a name SQLite uses for its own files "
            "(it would delete or misread the copy); choose another name"
        )


def backup_sqlite(
    path: Path,
    *,
    destination: Path | None = None,
    label: str = "backup",
    now: datetime | None = None,
) -> Path:
    """A consistent, verified copy through SQLite's backup API (safe while others write).

    Without ``destination`` the copy sits beside ``path``, named after ``label``
    and ``now`` (a UTC stamp). The copy is written to a temporary file beside
    its destination, switched to a rollback journal (one self-contained file),
    opened read-only and checked (``integrity_check``, a schema revision) and
    only then linked into place: a backup that is reported is one that opens.
    """
    if destination is None:
        if now is None:
            raise ValueError("a backup beside the database needs the time for its name")
        stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%SZ")
        destination = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix or '.db'}")
        counter = 1
        while destination.exists():
            destination = path.with_name(
                f"{path.stem}.{label}-{stamp}-{counter}{path.suffix or '.db'}"
            )
            counter += 1
    check_backup_name(destination)
    import tempfile

    try:
        fd, partial = tempfile.mkstemp(
            prefix=f".{destination.name[:64]}.", suffix=".partial", dir=destination.parent
        )
        os.close(fd)
    except OSError as exc:
        raise UsageError(
            f"cannot write a backup in {destination.parent}: {os_problem(exc)}"
        ) from None
    try:
        _copy(path, Path(partial))
        crash_point("backup-copied")  # the tests: a kill here leaves only a .partial
        _verify(Path(partial), destination)
        _link_into_place(Path(partial), destination)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(partial)
    return destination


def _copy(path: Path, partial: Path) -> None:
    source = sqlite3.connect(f"file:{urllib.parse.quote(str(path))}?mode=ro", uri=True)
    try:
        try:
            target = sqlite3.connect(partial)
        except sqlite3.Error as exc:
            raise UsageError(f"cannot write a backup at {partial.parent}: {exc}") from None
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # no -wal beside the copy
            target.commit()
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"the backup could not be written: {exc}") from None
        finally:
            target.close()
    finally:
        source.close()
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())


def _verify(partial: Path, destination: Path) -> None:
    try:
        copy = sqlite3.connect(f"file:{urllib.parse.quote(str(partial))}?mode=ro", uri=True)
        try:
            integrity = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
        finally:
            copy.close()
    except sqlite3.Error as exc:
        integrity, tables = [str(exc)], set()
    if integrity != ["ok"]:
        raise DatabaseUnavailable(
            f"the backup for {destination} did not verify ({'; '.join(integrity[:3])}); "
            "nothing was written"
        )
    if "alembic_version" not in tables:
        raise DatabaseUnavailable(
            f"the backup for {destination} holds no tracker schema; nothing was written"
        )


def _link_into_place(partial: Path, destination: Path) -> None:
    """``partial`` as ``destination``, never over a file that appeared meanwhile."""
    try:
        os.link(partial, destination)
    except FileExistsError:
        raise UsageError(f"{destination} already exists; choose a new file name") from None
    except OSError as exc:
        raise UsageError(f"cannot write {destination}: {os_problem(exc)}") from None
    with contextlib.suppress(OSError):
        fd = os.open(destination.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
