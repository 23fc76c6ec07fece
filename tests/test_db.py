"""Engine setup, locations, migrations (SQLite and PostgreSQL), corrupt and foreign databases."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tracker.db import engine as engine_module
from tracker.db.engine import create_engine_for, resolve_location, write_session
from tracker.db.schema import HEAD_REVISION, REVISIONS, read_schema_state, upgrade_schema
from tracker.errors import DatabaseLocationError, DatabaseUnavailable
from tracker.store import open_store

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_revisions_constant_matches_the_migration_scripts() -> None:
    from alembic.script import ScriptDirectory

    from tracker.db.schema import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    chain = [rev.revision for rev in script.walk_revisions()][::-1]
    assert tuple(chain) == REVISIONS
    assert script.get_current_head() == HEAD_REVISION


def test_models_do_not_drift_from_migrations(db_path: Path) -> None:
    from alembic import command

    from tracker.db.schema import alembic_config

    location = resolve_location(str(db_path))
    upgrade_schema(location, None, now=NOW)
    engine = create_engine_for(location)
    with engine.connect() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.check(config)  # raises if autogenerate would produce anything
    engine.dispose()


def _roundtrip(url_or_path: str) -> None:
    from alembic import command

    from tracker.db.schema import alembic_config

    location = resolve_location(url_or_path)
    upgrade_schema(location, None, now=NOW)
    engine = create_engine_for(location, foreign_keys=False)
    assert read_schema_state(engine).revision == HEAD_REVISION
    with engine.connect() as conn, conn.begin():
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    state = read_schema_state(engine)
    assert state.revision is None and not state.has_tables
    with engine.connect() as conn, conn.begin():
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert read_schema_state(engine).revision == HEAD_REVISION
    engine.dispose()


def test_migrations_up_and_down_on_sqlite(db_path: Path) -> None:
    _roundtrip(str(db_path))


@pytest.mark.postgres
def test_migrations_up_and_down_on_postgresql(pg_url: str) -> None:
    _roundtrip(pg_url)


def _seed_at_first_revision(url_or_path: str) -> None:
    location = resolve_location(url_or_path)
    upgrade_schema(location, None, target="0001", now=NOW)
    engine = create_engine_for(location)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO concepts (id, title, category, target_depth, summary, position,"
                " retired)"
                " VALUES ('attention-mechanism', 'Attention', 'architecture', 3, '', 0, false)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO lessons (id, concept_id, depth, title, has_exercise, questions_json, "
                "content_sha256, position, retired) VALUES ('attention-mechanism-1', "
                "'attention-mechanism', 1, 'Old title', true, '[]', 'old', 0, false)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO study_sessions (learner_id, lesson_id, concept_id, depth, kind, "
                "completed_at, local_date) VALUES (1, 'attention-mechanism-1', "
                "'attention-mechanism', 1, 'study', '2025-10-01 09:00:00+00:00', '2025-10-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO progress (learner_id, concept_id, lesson_id, depth, achieved_at,"
                " session_id) "
                "VALUES (1, 'attention-mechanism', 'attention-mechanism-1', 1, "
                "'2025-10-01 09:00:00+00:00', 1)"
            )
        )
    engine.dispose()


def _assert_history_kept(store) -> None:  # noqa: ANN001
    from tracker.standing import concept_depths

    with store.read() as session:
        assert concept_depths(session, learner_id=store.learner_id) == {"attention-mechanism": 1}
        title = session.execute(
            text("SELECT title FROM lessons WHERE id = 'attention-mechanism-1'")
        ).scalar()
        assert title != "Old title"  # the curriculum sync updated it, history stayed


def test_upgrade_of_a_previous_revision_keeps_data_and_backs_up(db_path: Path) -> None:
    _seed_at_first_revision(str(db_path))
    store = open_store()
    try:
        assert (
            store.notices
            and f"upgraded database schema 0001 -> {HEAD_REVISION}" in store.notices[0]
        )
        backup = Path(store.notices[0].rsplit("copied to ", 1)[1])
        assert backup.exists() and backup.parent == db_path.parent / "backups"
        with sqlite3.connect(backup) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
            assert conn.execute("SELECT count(*) FROM progress").fetchone() == (1,)
        _assert_history_kept(store)
    finally:
        store.close()
    # Current now: a second open neither upgrades nor backs up.
    again = open_store()
    assert again.notices == []
    again.close()


@pytest.mark.postgres
def test_upgrade_of_a_previous_revision_on_postgresql(pg_url: str) -> None:
    _seed_at_first_revision(pg_url)
    store = open_store(pg_url)
    try:
        assert store.notices == [f"upgraded database schema 0001 -> {HEAD_REVISION}"]
        _assert_history_kept(store)
    finally:
        store.close()


def test_sqlite_connections_have_foreign_keys_wal_and_busy_timeout(db_path: Path) -> None:
    store = open_store()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == engine_module.BUSY_TIMEOUT_MS
    store.close()


def test_a_second_writer_waits_for_the_first_instead_of_failing(db_path: Path) -> None:
    """BEGIN IMMEDIATE: a read-then-write transaction queues behind a concurrent writer."""
    store = open_store()
    holding = threading.Event()
    order: list[str] = []

    def first_writer() -> None:
        with write_session(store.engine) as session:
            session.execute(text("UPDATE learners SET name = 'first' WHERE id = 1"))
            holding.set()
            time.sleep(0.5)
            order.append("first committed")

    thread = threading.Thread(target=first_writer)
    thread.start()
    holding.wait()
    with write_session(store.engine) as session:
        name = session.execute(text("SELECT name FROM learners WHERE id = 1")).scalar()
        session.execute(text("UPDATE learners SET name = :n WHERE id = 1"), {"n": name + "+second"})
        order.append("second wrote")
    thread.join()
    assert order == ["first committed", "second wrote"]
    with store.read() as session:
        assert (
            session.execute(text("SELECT name FROM learners WHERE id = 1")).scalar()
            == "first+second"
        )
    store.close()


def test_a_lock_held_past_the_timeout_is_exit_3(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, cli_run
) -> None:
    open_store().close()
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 200)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        # WAL: readers are never blocked, so a read-only command still works...
        assert cli_run("concepts").exit_code == 0
        # ...but one that must write (a new learner) waits, then gives up cleanly.
        cli_run("config", "set", "learner", "someone-new")
        result = cli_run("concepts")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert result.exit_code == 3
    assert "is locked by another tracker process" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "--db is empty"),
        ("mysql://root@localhost/x", "unsupported database URL scheme 'mysql'"),
        ("sqlite:///:memory:", "in-memory database"),
        ("/no/such/dir/t.db", "directory /no/such/dir does not exist"),
    ],
)
def test_bad_db_values_are_usage_errors(value: str, message: str, cli_run) -> None:
    result = cli_run("--db", value, "concepts")
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_that_is_a_directory(tmp_path: Path, cli_run) -> None:
    result = cli_run("--db", str(tmp_path), "concepts")
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == f"Error: database path {tmp_path} is a directory: give a file path"
    )


def test_location_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "env.db"))
    assert (
        resolve_location(str(tmp_path / "flag.db"), str(tmp_path / "cfg.db")).sqlite_path
        == tmp_path / "flag.db"
    )
    assert resolve_location(None, str(tmp_path / "cfg.db")).sqlite_path == tmp_path / "env.db"
    monkeypatch.delenv("TRACKER_DB")
    assert resolve_location(None, str(tmp_path / "cfg.db")).sqlite_path == tmp_path / "cfg.db"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_location(None, "").sqlite_path == tmp_path / "xdg" / "tracker" / "tracker.db"
    assert resolve_location("postgres://u@h/db").url == "postgresql+psycopg://u@h/db"
    with pytest.raises(DatabaseLocationError):
        resolve_location("ftp://x")


def test_corrupt_database_is_exit_3_and_untouched(tmp_path: Path, cli_run) -> None:
    bad = tmp_path / "corrupt.db"
    payload = b"this is not a database at all\n" * 200
    bad.write_bytes(payload)
    result = cli_run("--db", str(bad), "concepts")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: {bad} is not a readable tracker database")
    assert len(result.stderr.strip().splitlines()) == 1
    assert bad.read_bytes() == payload
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "corrupt.db"]


def test_a_foreign_sqlite_database_is_refused(tmp_path: Path, cli_run) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    before = other.read_bytes()
    result = cli_run("--db", str(other), "concepts")
    assert result.exit_code == 3
    assert "holds tables but is not a tracker database" in result.stderr
    assert other.read_bytes() == before


def test_a_newer_schema_is_refused(db_path: Path, cli_run) -> None:
    open_store().close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = cli_run("concepts")
    assert result.exit_code == 3
    assert "newer than this tracker knows" in result.stderr


def test_failed_upgrade_leaves_the_database_as_it_was(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed_at_first_revision(str(db_path))
    with sqlite3.connect(db_path) as conn:
        before = conn.execute("SELECT * FROM progress").fetchall()

    def broken_check(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise DatabaseUnavailable("simulated failure mid-upgrade")

    # Fail after the DDL ran, inside the same transaction.
    real_upgrade = __import__("alembic.command", fromlist=["upgrade"]).upgrade

    def upgrade_then_fail(config, target):  # noqa: ANN001, ANN202
        real_upgrade(config, target)
        broken_check()

    monkeypatch.setattr("alembic.command.upgrade", upgrade_then_fail)
    with pytest.raises(DatabaseUnavailable, match="simulated"):
        open_store()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        assert (
            conn.execute("SELECT name FROM sqlite_master WHERE name = 'checkins'").fetchone()
            is None
        )
        assert conn.execute("SELECT * FROM progress").fetchall() == before


def test_a_path_with_url_characters_is_that_very_file(tmp_path: Path, cli_run) -> None:
    odd = tmp_path / "a?b#c%20d.db"
    assert cli_run("--db", str(odd), "init").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == [odd.name]
    backup = tmp_path / "copy.sqlite"
    assert cli_run("--db", str(odd), "db", "backup", str(backup)).exit_code == 0
    assert backup.stat().st_size > 0


def _concurrently(
    commands: list[list[str]], env: dict[str, str]
) -> list[subprocess.CompletedProcess]:
    processes = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for c in commands
    ]
    results = []
    for process, command in zip(processes, commands, strict=True):
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_first_commands_and_checkins_on_postgresql(pg_url: str) -> None:
    """Writers read before they insert: PostgreSQL serialises them like SQLite's lock."""
    from sqlalchemy import create_engine, text

    env = {**os.environ, "TRACKER_DB": pg_url, "TRACKER_NOW": "2025-05-05T09:00"}
    tracker = [sys.executable, "-m", "tracker"]
    results = _concurrently([[*tracker, "checkin", "--json"]] * 4, env)
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    created = [r for r in results if "created a new tracker database" in r.stderr]
    assert len(created) == 1
    results = _concurrently([[*tracker, "learn", "transformer-1", "--yes"]] * 3, env)
    assert [r.returncode for r in results] == [0] * 3, [r.stderr for r in results]
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM checkins")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM progress")).scalar() == 1
    engine.dispose()
