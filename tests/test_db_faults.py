"""The SQLite file under faults (issue 9, items 10, 12 and 13).

10: a backup is refused under SQLite's own sidecar names (tests/test_hostile_paths.py)
and is verified (opened read-only, ``integrity_check``) before it is reported.
12: a database that lost WAL (a crash during its creation, a copy made by hand)
gets it back from the next command, and `db check` reports the journal mode.
13: of eight commands started together on a revision-0001 database, one copies
it (under the write lock, once, only while the upgrade is still due) and
upgrades it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.db import schema
from tracker.db.engine import create_engine_for, resolve_location
from tracker.db.schema import HEAD_REVISION, ensure_wal, upgrade_schema

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def journal(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def revision(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()


def env_for(folder: Path, **extra: str) -> dict[str, str]:
    config = folder / "config.toml"
    if not config.exists():
        config.write_text('timezone = "UTC"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DB=str(folder / "tracker.db"), TRACKER_CONFIG=str(config), **extra)
    return env


# --- 10: verified backups --------------------------------------------------------------------


def test_a_backup_is_one_self_contained_file_that_opens_read_only(
    db_path: Path, tmp_path: Path, cli_run
) -> None:
    assert cli_run("learn", "transformer-1", "--yes").exit_code == 0
    target = tmp_path / "copies" / "b.db"
    target.parent.mkdir()
    result = cli_run("db", "backup", str(target))
    assert (result.exit_code, result.stdout.strip()) == (0, f"backup written to {target}")
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.db"]  # no -wal, no partial
    assert journal(target) == "delete"
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM study_sessions").fetchone() == (1,)
    finally:
        conn.close()


def test_a_backup_that_does_not_verify_is_not_reported(
    db_path: Path, tmp_path: Path, cli_run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli_run("init").exit_code == 0
    real_copy = schema._copy

    def torn_copy(path: Path, partial: Path) -> None:  # the disk lost the copy's tail
        real_copy(path, partial)
        with open(partial, "r+b") as handle:
            handle.truncate(os.path.getsize(partial) // 3)

    monkeypatch.setattr(schema, "_copy", torn_copy)
    target = tmp_path / "copies" / "b.db"
    target.parent.mkdir()
    result = cli_run("db", "backup", str(target))
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: the backup for {target} did not verify (")
    assert result.stderr.strip().endswith("); nothing was written")
    assert list(target.parent.iterdir()) == []


def test_a_backup_never_replaces_a_file_that_appears_meanwhile(
    db_path: Path, tmp_path: Path, cli_run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli_run("init").exit_code == 0
    target = tmp_path / "b.db"
    real_verify = schema._verify

    def verify_then_race(partial: Path, destination: Path) -> None:
        real_verify(partial, destination)
        destination.write_text("someone else's file")

    monkeypatch.setattr(schema, "_verify", verify_then_race)
    result = cli_run("db", "backup", str(target))
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        f"Error: {target} already exists; choose a new file name",
    )
    assert target.read_text() == "someone else's file"
    assert [p.name for p in tmp_path.glob(".b.db.*")] == []


# --- 12: WAL, lost and found -----------------------------------------------------------------


def test_a_database_left_in_delete_mode_gets_wal_back_and_db_check_says_so(
    db_path: Path, cli_run
) -> None:
    assert cli_run("init").exit_code == 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    check = cli_run("db", "check", "--json")
    assert check.exit_code == 1
    import json

    report = json.loads(check.stdout)
    assert report["journal_mode"] == "delete"
    assert report["problems"] == [
        "journal mode is delete, not wal (concurrent commands wait on each other and a "
        "crash can cost more): any tracker command that can write the file sets it"
    ]
    assert journal(db_path) == "delete"  # db check reports, it does not change
    assert cli_run("checkin").exit_code == 0
    assert journal(db_path) == "wal"
    text = cli_run("db", "check")
    assert text.exit_code == 0
    assert "journal mode: wal" in text.stdout.splitlines()


def test_a_file_that_cannot_be_written_keeps_its_mode_without_an_error(
    db_path: Path, cli_run
) -> None:
    assert cli_run("init").exit_code == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    from sqlalchemy import create_engine

    read_only = create_engine(f"sqlite:///file:{db_path}?mode=ro&uri=true")
    try:
        assert ensure_wal(read_only) == "delete"
    finally:
        read_only.dispose()


def test_wal_is_set_before_the_first_table(tmp_path: Path) -> None:
    """The fault: killed after the new schema committed, before anything else ran."""
    env = env_for(tmp_path, TRACKER_FAULTS="schema-committed")
    died = subprocess.run(
        [sys.executable, "-m", "tracker", "checkin"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert died.returncode == 97, died.stderr
    db = tmp_path / "tracker.db"
    assert revision(db) == HEAD_REVISION
    assert journal(db) == "wal"


# --- 13: one upgrade backup ------------------------------------------------------------------


def at_revision_0001(db: Path) -> None:
    location = resolve_location(str(db))
    upgrade_schema(location, None, target="0001", now=NOW)
    engine = create_engine_for(location)
    engine.dispose()


@pytest.mark.slow
def test_eight_commands_on_an_old_database_leave_one_backup_of_it(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    at_revision_0001(db)
    env = env_for(tmp_path)
    commands = [
        subprocess.Popen(
            [sys.executable, "-m", "tracker", "checkin" if n % 2 else "due"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    errors = [command.communicate(timeout=120)[1] for command in commands]
    assert [command.returncode for command in commands] == [0] * 8, errors
    backups = sorted((tmp_path / "backups").glob("tracker.*.schema-0001.db"))
    assert len(backups) == 1, backups
    assert revision(backups[0]) == "0001"
    assert revision(db) == HEAD_REVISION
    upgraded = [e for e in errors if "upgraded database schema 0001" in e]
    assert len(upgraded) == 1 and str(backups[0]) in upgraded[0]
