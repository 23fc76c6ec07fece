"""Shared fixtures: every test gets its own database and config file under tmp_path."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

PG_ADMIN_URL = os.environ.get(
    "TRACKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def tracker_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point TRACKER_DB and TRACKER_CONFIG at tmp_path; a fixed timezone; the real clock."""
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "tracker.db"))
    config = tmp_path / "config.toml"
    config.write_text('timezone = "UTC"\n', encoding="utf-8")
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    monkeypatch.delenv("TRACKER_NOW", raising=False)
    return tmp_path


@pytest.fixture
def db_path(tracker_env: Path) -> Path:
    return tracker_env / "tracker.db"


@pytest.fixture
def store(tracker_env: Path):  # -> tracker.store.Store, built by the migrations
    from tracker.store import open_store

    opened = open_store()
    yield opened
    opened.close()


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    from tracker.cli import cli

    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


@pytest.fixture
def cli_run():
    return invoke


def _pg_admin_engine():
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database of our own, dropped afterwards."""
    try:
        import psycopg  # noqa: F401
        from sqlalchemy import text

        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}: {exc}")
    name = f"tracker_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
