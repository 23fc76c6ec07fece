"""Keep a database's schema at the head revision, cheaply on the daily path.

The stored revision is compared with ``HEAD_REVISION`` in plain SQL; Alembic
is imported only when an upgrade is due. A test asserts ``REVISIONS`` matches
the migration scripts, so this constant cannot drift from migrations/.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from tracker.db.engine import DatabaseLocation, create_engine_for, take_write_lock, writer
from tracker.errors import DatabaseUnavailable

REVISIONS = ("0001", "0002", "0003", "0005")
HEAD_REVISION = REVISIONS[-1]


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
    engine: Engine, location: DatabaseLocation, *, now: datetime
) -> UpgradeReport | None:
    """Create or upgrade the schema when needed; None when it was already current."""
    state = read_schema_state(engine)
    if state.revision == HEAD_REVISION:
        return None
    check_upgradable(state, location)
    return upgrade_schema(location, state.revision, now=now)


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
) -> UpgradeReport | None:
    """Run the migrations in one transaction (SQLite: with a backup first, foreign keys off).

    None when another process brought the schema to head first.
    """
    from alembic import command

    backup = None
    if location.sqlite_path is not None and from_revision is not None:
        backup = backup_sqlite(location.sqlite_path, label=f"schema-{from_revision}", now=now)
    engine = create_engine_for(location, foreign_keys=False)
    try:
        with writer(engine).connect() as conn, conn.begin():
            take_write_lock(conn)
            if schema_state(conn).revision == HEAD_REVISION and target == "head":
                return None  # another process did it while this one waited for the lock
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, target)
            if engine.dialect.name == "sqlite":
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise DatabaseUnavailable(
                        f"upgrade left {len(broken)} broken references; nothing was changed"
                    )
        if engine.dialect.name == "sqlite":
            raw = engine.raw_connection()  # outside any transaction, as the pragma requires
            try:
                raw.cursor().execute("PRAGMA journal_mode = WAL")
            finally:
                raw.close()
    finally:
        engine.dispose()
    return UpgradeReport(from_revision=from_revision, to_revision=HEAD_REVISION, backup_path=backup)


def backup_sqlite(
    path: Path,
    *,
    destination: Path | None = None,
    label: str = "backup",
    now: datetime | None = None,
) -> Path:
    """A consistent copy through SQLite's backup API (safe while others read or write).

    Without ``destination`` the copy sits beside ``path``, named after ``label``
    and ``now`` (a UTC stamp).
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
    source = sqlite3.connect(f"file:{urllib.parse.quote(str(path))}?mode=ro", uri=True)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return destination
