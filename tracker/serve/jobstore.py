"""APScheduler's SQLAlchemy job store, made to survive a busy database.

APScheduler 3 calls ``update_job`` and ``get_next_run_time`` from its main
loop without catching anything: one "database is locked" there ends the
scheduler thread for good, silently (agronholm/apscheduler#843, #109). Here
those calls are retried a few times with backoff and, if the database still
refuses, logged and absorbed: re-running a job is harmless because the
deliveries ledger, not the job store, decides what is sent. The store runs on
the tracker's own engine, so SQLite transactions get the busy timeout and
take the write lock up front like every other writer.

Imported only by the reminder service: nothing on the daily path loads
APScheduler.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy.exc import DBAPIError

RETRY_WAITS_S = (0.2, 0.5, 1.0, 2.0)
WAKE_AGAIN = timedelta(seconds=10)  # when the next run time cannot be read


class TrackerJobStore(SQLAlchemyJobStore):
    """A ``SQLAlchemyJobStore`` whose main-loop calls never kill the scheduler thread."""

    def __init__(self, *, log: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._log = log

    def _retrying(self, what: str, call: Callable[[], Any]) -> Any:
        for wait in (*RETRY_WAITS_S, None):
            try:
                return call()
            except DBAPIError as exc:
                if wait is None:
                    raise
                first = str(exc.orig or exc).strip().splitlines()[:1]
                self._log(f"job store {what}: {first[0] if first else exc}; retrying")
                time.sleep(wait)
        raise AssertionError("unreachable")

    def update_job(self, job: Any) -> None:
        try:
            self._retrying("update", lambda: super(TrackerJobStore, self).update_job(job))
        except DBAPIError:
            self._log(f"job store: could not save the next run of {job.id}; it may run again")

    def get_next_run_time(self) -> datetime | None:
        try:
            return self._retrying("read", super().get_next_run_time)
        except DBAPIError:
            return datetime.now(UTC) + WAKE_AGAIN

    def get_due_jobs(self, now: datetime) -> list[Any]:
        return self._retrying("read", lambda: super(TrackerJobStore, self).get_due_jobs(now))
