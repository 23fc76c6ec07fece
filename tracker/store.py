"""Open the tracker's database the way every use case needs it.

One call resolves the location, brings the schema to head (Alembic only if
due), syncs the curriculum when lessons/ changed (a fingerprint compare
otherwise) and finds the learner. The CLI, the daemon and tests all start here.
``open_store(prepare=False)`` only connects: `tracker db check` must report a
database as it finds it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker.clock import Clock
from tracker.config import Settings, load_settings
from tracker.db.engine import (
    DatabaseLocation,
    create_engine_for,
    read_session,
    resolve_location,
    translate_error,
    write_session,
)
from tracker.db.models import Learner
from tracker.db.schema import ensure_schema


def _warn_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _one_line(exc: BaseException) -> str:
    from tracker.errors import TrackerError
    from tracker.paths import os_problem

    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return where + os_problem(exc)
    text = str(exc).strip().splitlines()
    if isinstance(exc, TrackerError) and text:
        return text[0]
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@dataclass
class Store:
    location: DatabaseLocation
    engine: Engine
    settings: Settings
    clock: Clock
    learner_id: int = 0
    notices: list[str] = field(default_factory=list)
    # The learner-day this process last made sure had its automatic backup.
    backed_up_day: date | None = None
    warn: Callable[[str], None] = field(default=_warn_on_stderr, repr=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._translated(), read_session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        self.back_up_daily()
        with self._translated(), write_session(self.engine) as session:
            yield session

    def back_up_daily(self) -> None:
        """The first write of a learner-day first copies a SQLite file into ``backups/``.

        Once per day per process (a set check afterwards); the day is the
        clock's (``TRACKER_NOW``), never the wall clock's. A backup that fails
        is a warning, never a failed command.
        """
        if self.location.sqlite_path is None:
            return
        try:
            now = self.clock.now()
            day = self.clock.local_day(now)
            if day == self.backed_up_day:
                return
            self.backed_up_day = day
            if not self.location.sqlite_path.exists():
                return
            from tracker.db.backups import daily_backup

            daily_backup(self.location.sqlite_path, now=now, day_of=self.clock.local_day)
        except Exception as exc:  # noqa: BLE001 - a backup never fails the command
            self.warn(f"warning: the automatic backup failed: {_one_line(exc)}")

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            raise translate_error(exc, self.location) from exc

    def now(self) -> datetime:
        """The edge's one read of the clock (``TRACKER_NOW`` honoured)."""
        return self.clock.now()

    def with_settings(self, settings: Settings) -> Store:
        """The same database seen with another learner's settings (a hand-off's)."""
        return replace(self, settings=settings, clock=settings.clock, notices=[])

    def close(self) -> None:
        self.engine.dispose()


def open_store(
    db: str | None = None,
    settings: Settings | None = None,
    *,
    prepare: bool = True,
    now: datetime | None = None,
) -> Store:
    """The store for ``db`` (else the configured location), ready for use cases.

    ``prepare`` creates or upgrades the schema, syncs the curriculum and finds
    the configured learner (``now`` dates what that writes; the clock's now
    when None: this is an edge).
    """
    settings = settings or load_settings()
    clock = settings.clock
    location = resolve_location(db, settings.db)
    engine = create_engine_for(location)
    store = Store(location=location, engine=engine, settings=settings, clock=clock)
    if not prepare:
        return store
    try:
        with store._translated():
            when = now or clock.now()
            report = ensure_schema(engine, location, now=when, day_of=clock.local_day)
            if report is not None:
                store.notices.append(report.describe())
                if report.from_revision is None:  # a new file: nothing to back up today
                    store.backed_up_day = clock.local_day(when)
            sync_if_changed(store, now=when)
            store.learner_id = learner_id_for(store, settings.learner, now=when)
    except BaseException:
        engine.dispose()
        raise
    return store


def sync_if_changed(store: Store, *, now: datetime) -> None:
    from tracker.curriculum.fingerprint import fingerprint, needs_sync
    from tracker.resources import lessons_dir

    current = fingerprint(lessons_dir())
    with store.read() as session:
        if not needs_sync(session, current):
            return
    from tracker.curriculum.loader import load_curriculum
    from tracker.curriculum.sync import sync_curriculum

    curriculum = load_curriculum()
    with store.write() as session:
        sync_curriculum(session, curriculum, now=now)


def learner_id_for(store: Store, name: str, *, now: datetime) -> int:
    learner = Learner.__table__.c  # Core: the daily path never configures the ORM mappers
    with store.read() as session:
        found = session.scalar(select(learner.id).where(learner.name == name))
    if found is not None:
        return found
    with store.write() as session:
        # Re-check under the write lock: another process may have created it meanwhile.
        found = session.scalar(select(Learner.id).where(Learner.name == name))
        if found is not None:
            return found
        learner = Learner(name=name, created_at=now)
        session.add(learner)
        session.flush()
        return learner.id
