"""Every earlier schema, filled with a learner's data, upgrades to head and back without loss.

For each revision before head a database is built by the migrations up to
that revision and loaded with tests/data/migrations/NNNN.sql (a learner's
weeks as that revision holds them; scripts/make_migration_fixtures.py writes
them). The upgrade keeps every row and value of that revision's tables and
columns, leaves no broken reference, and the tracker works on the result; a
downgrade back gives the same rows; and the copy the upgrade takes first, put
back with `tracker db restore`, is the old database, which upgrades again.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.db.backups import backup_folder
from tracker.db.engine import create_engine_for, resolve_location
from tracker.db.revisions import HEAD_REVISION, REVISIONS
from tracker.db.schema import alembic_config, upgrade_schema

FIXTURES = Path(__file__).parent / "data" / "migrations"
EARLIER = REVISIONS[:-1]
NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)

Snapshot = dict[str, list[tuple]]


def _at(revision: str, db_path: Path) -> Snapshot:
    """A database at ``revision`` holding its fixture; the fixture's rows as loaded."""
    upgrade_schema(resolve_location(str(db_path)), None, target=revision, now=NOW)
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executescript((FIXTURES / f"{revision}.sql").read_text(encoding="utf-8"))
    return _rows(db_path, _columns(db_path))


def _columns(db_path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(db_path) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] != "alembic_version"
        ]
        return {t: [c[1] for c in conn.execute(f'PRAGMA table_info("{t}")')] for t in tables}


def _rows(db_path: Path, columns: dict[str, list[str]]) -> Snapshot:
    with sqlite3.connect(db_path) as conn:
        return {
            table: sorted(conn.execute(f'SELECT {_quoted(names)} FROM "{table}"'))
            for table, names in columns.items()
        }


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _revision(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def _sound(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_every_earlier_revision_has_a_fixture_with_a_learners_data() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.sql")) == list(EARLIER)
    for revision in EARLIER:
        text = (FIXTURES / f"{revision}.sql").read_text(encoding="utf-8")
        for table in ("study_sessions", "progress", "review_cards", "review_logs"):
            assert f"INSERT INTO {table} " in text, (revision, table)


@pytest.mark.parametrize("revision", EARLIER)
def test_upgrade_to_head_keeps_everything_and_downgrade_gives_it_back(
    revision: str, db_path: Path
) -> None:
    columns = _columns_after_load(revision, db_path)
    before = _rows(db_path, columns)
    assert sum(len(rows) for rows in before.values()) >= 40
    report = upgrade_schema(resolve_location(str(db_path)), revision, now=NOW)
    assert report is not None and report.backup_path is not None
    assert _revision(db_path) == HEAD_REVISION
    _sound(db_path)
    upgraded = _rows(db_path, {t: c for t, c in columns.items() if t != "reminders_sent"})
    assert upgraded == {t: r for t, r in before.items() if t != "reminders_sent"}

    from alembic import command

    engine = create_engine_for(resolve_location(str(db_path)), foreign_keys=False)
    try:
        with engine.connect() as conn, conn.begin():
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
    finally:
        engine.dispose()
    assert _revision(db_path) == revision
    _sound(db_path)
    assert _columns(db_path) == columns
    assert _rows(db_path, columns) == before


def _columns_after_load(revision: str, db_path: Path) -> dict[str, list[str]]:
    _at(revision, db_path)
    return _columns(db_path)


@pytest.mark.parametrize("revision", EARLIER)
def test_the_tracker_works_on_an_upgraded_database(revision: str, db_path: Path, cli_run) -> None:
    _at(revision, db_path)
    env = {"TRACKER_NOW": "2026-12-02T10:00:00+00:00"}
    checkin = cli_run("checkin", "--json", env=env)
    assert checkin.exit_code == 0, checkin.output
    assert f"upgraded database schema {revision} -> {HEAD_REVISION}" in checkin.stderr
    history = cli_run("history", "--json", env=env)
    kinds = {event["kind"] for event in json.loads(history.stdout)}
    assert {"study", "submission", "review", "checkin"} <= kinds
    check = cli_run("db", "check", env=env)
    assert check.exit_code == 0, check.stdout


@pytest.mark.parametrize("revision", EARLIER)
def test_the_backup_taken_before_an_upgrade_restores_the_old_database(
    revision: str, db_path: Path, cli_run
) -> None:
    before = _at(revision, db_path)
    columns = _columns(db_path)
    env = {"TRACKER_NOW": "2026-12-02T10:00:00+00:00"}
    assert cli_run("checkin", env=env).exit_code == 0
    backup = backup_folder(db_path) / f"tracker.2026-12-02T100000Z.schema-{revision}.db"
    assert _rows(backup, columns) == before
    restore = cli_run("db", "restore", str(backup), env={"TRACKER_NOW": "2026-12-02T11:00:00Z"})
    assert restore.exit_code == 0, restore.output
    assert _revision(db_path) == revision
    assert _rows(db_path, columns) == before
    # the restored database is an old one again: the next command upgrades it (and backs it up)
    again = cli_run("due", env={"TRACKER_NOW": "2026-12-02T12:00:00+00:00"})
    assert again.exit_code == 0
    assert f"upgraded database schema {revision} -> {HEAD_REVISION}" in again.stderr
    assert _revision(db_path) == HEAD_REVISION
