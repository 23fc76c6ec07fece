"""The reminder scheduler of `tracker serve`: APScheduler 3 firing the remind use case on time.

The jobs live in the tracker's own database (a ``SQLAlchemyJobStore`` on the
same engine, table ``apscheduler_jobs_<learner id>``, so teammates sharing a
PostgreSQL database each keep their own), have fixed ids, and hold nothing
but a reference to the module-level ``fire`` and a kind name: when one fires
it reads the database, through ``tracker.usecases.reminders.remind``, the
same call `tracker remind --once` makes. The deliveries ledger is the source
of truth; the job store only says when to look. APScheduler 3's traps, and
what this does about each:

- Re-adding jobs at start with ``replace_existing=True`` recomputes the next
  run from now and drops a run missed while serve was down (#696): the
  scheduler starts paused, a job is replaced only when its trigger changed,
  and before it resumes one delivery run catches up from the ledger (a
  reminder missed today is sent once; an earlier learner-day is recorded as
  skipped).
- ``misfire_grace_time`` defaults to one second, and ``coalesce`` decides
  whether a restart fires a burst of missed runs (#463): grace is unlimited
  (a late run still looks at the ledger, which knows the learner-day) and
  missed runs coalesce into one.
- ``next_run_time`` is saved when a job is submitted, before it finishes, so a
  crash mid-job loses that run: the catch-up at start and the ledger's leases
  cover it.
- One job store must never be shared by two running schedulers: the host's
  serve lock allows one serve per database file; on PostgreSQL, where two
  machines can reach one database, the service also holds a session advisory
  lock per learner (the server drops it when the holder's connection dies).
- Cron triggers across DST (#606 skipped a day; #1021 looped on the repeated
  hour, fixed in 3.11.2): ``apscheduler>=3.11.2``, and
  tests/test_reminders_schedule.py walks both changes in America/New_York and
  Europe/Helsinki.
- The pure schedule (``tracker.reminders.schedule``) is what ``remind`` goes
  by; where it and the cron trigger part ways (a reminder_time inside the
  spring-forward hour just before ``day_starts_at`` would fire past the day
  boundary), a third job whose trigger *is* that schedule (``ScheduleTrigger``)
  fires on time. It never runs out, so APScheduler never removes it: removing
  a finished date job races with shutdown and kills the scheduler thread
  (``remove_job`` raises ``JobLookupError`` once the state is stopped).
- A wait measured on the monotonic clock does not count a laptop's suspend, so
  after a night asleep a cron job would fire hours late: a tick job every five
  minutes runs the same delivery, so a missed reminder goes out soon after
  waking; it also runs due retries. ``TRACKER_REMINDER_INTERVAL_S`` (tests
  only) makes it tick every few seconds.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from tracker.config import Settings
from tracker.errors import EnvironmentProblem, TrackerError
from tracker.reminders.channels import Channel, channels_for
from tracker.reminders.schedule import kind_times, next_slot
from tracker.serve.host import Host
from tracker.usecases.reminders import default_claimant, remind

JOB_FUNC = "tracker.serve.reminders:fire"
JOB_IDS = {"daily": "tracker-reminder-daily", "streak": "tracker-reminder-streak"}
TICK_JOB = "tracker-reminder-tick"
SCHEDULE_JOB = "tracker-reminder-schedule"
TICK_S = 300.0
INTERVAL_ENV = "TRACKER_REMINDER_INTERVAL_S"  # tests only: tick every few seconds
PG_LOCK_CLASS = 0x74726B72  # "trkr": the advisory lock class of reminder schedulers

_active: ReminderService | None = None


def fire(reason: str) -> None:
    """The job function every scheduled job names: deliver what is due now."""
    service = _active
    if service is not None:
        service.deliver(reason)


def tick_seconds(env: Mapping[str, str] | None = None) -> float:
    raw = (os.environ if env is None else env).get(INTERVAL_ENV, "")
    try:
        value = float(raw) if raw else TICK_S
    except ValueError:
        value = TICK_S
    return max(value, 0.5)


class ScheduleTrigger(BaseTrigger):
    """Fires at the pure schedule's instants (``next_slot``), forever; pickles as plain values."""

    def __init__(self, settings: Settings) -> None:
        self.state = {
            "version": 1,
            "timezone": settings.timezone,
            "day_starts_at": settings.day_starts_at,
            "reminder_time": settings.reminder_time,
            "streak_reminder_time": settings.streak_reminder_time,
        }

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> Any:
        state = self.state
        settings = Settings(
            timezone=state["timezone"],
            day_starts_at=state["day_starts_at"],
            reminder_time=state["reminder_time"],
            streak_reminder_time=state["streak_reminder_time"],
        )
        slot = next_slot(settings, settings.clock, previous_fire_time or now)
        return slot.at.astimezone(settings.clock.tz) if slot else None

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.state)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = dict(state)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.state.items() if k != "version")
        return f"<ScheduleTrigger ({fields})>"


def build_triggers(settings: Any, tz: Any, tick_s: float) -> dict[str, tuple[Any, str]]:
    """Each job id with its trigger and the reason it passes to ``fire``."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    jobs: dict[str, tuple[Any, str]] = {}
    for kind, at in kind_times(settings).items():
        jobs[JOB_IDS[kind]] = (CronTrigger(hour=at.hour, minute=at.minute, timezone=tz), kind)
    if jobs:
        jobs[SCHEDULE_JOB] = (ScheduleTrigger(settings), "schedule")
    jobs[TICK_JOB] = (IntervalTrigger(seconds=tick_s, timezone=tz), "tick")
    return jobs


def _same_trigger(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if hasattr(a, "interval"):
        return a.interval == b.interval
    return repr(a) == repr(b)  # cron: fields and timezone


class ReminderService:
    """Runs the reminder jobs while `tracker serve` runs; one line in the log per delivery."""

    name = "reminders"

    def __init__(
        self,
        *,
        now: Callable[[], datetime] | None = None,
        channels: Mapping[str, Channel] | None = None,
        tick_s: float | None = None,
    ) -> None:
        self._now = now
        self._channels = channels
        self.tick_s = tick_s if tick_s is not None else tick_seconds()
        self.host: Host | None = None
        self.scheduler: Any = None
        self.claimant = default_claimant("serve")
        self._lock = threading.Lock()
        self._pg_lock: Any = None

    # --- life cycle
    def start(self, host: Host) -> None:
        global _active
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        from tracker.db.engine import writer
        from tracker.serve.jobstore import TrackerJobStore

        self.host = host
        store = host.store
        if self._channels is None:
            self._channels = channels_for(store.settings, terminal=self._log_reminder)
        self._hold_pg_lock()
        engine = writer(store.engine) if store.location.is_sqlite else store.engine
        jobstore = TrackerJobStore(
            engine=engine, tablename=f"apscheduler_jobs_{store.learner_id}", log=host.log
        )
        scheduler = BackgroundScheduler(
            jobstores={"default": jobstore},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=store.clock.tz,
            daemon=True,
        )
        try:
            scheduler.start(paused=True)
            self.scheduler = scheduler
            self._sync_jobs()
            _active = self
            self.deliver("start")  # catch up from the ledger before any job runs
            scheduler.resume()
        except BaseException:
            self.stop()
            raise
        upcoming = next_slot(store.settings, store.clock, self.now())
        when = f"next {upcoming.kind} at {upcoming.at.isoformat()}" if upcoming else "none due"
        host.log(f"reminder scheduler ready ({', '.join(self._channels) or 'no channels'}; {when})")

    def stop(self) -> None:
        global _active
        if _active is self:
            _active = None
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            try:
                scheduler.shutdown(wait=True)
            except Exception as exc:  # noqa: BLE001 - stop must not raise
                self._log(f"reminder scheduler did not stop cleanly: {exc}")
        lock, self._pg_lock = self._pg_lock, None
        if lock is not None:
            from sqlalchemy import text

            # Unlocked at once (the server ends a closed session's locks only when it
            # notices), then invalidated, not pooled: the session's end releases it anyway.
            with contextlib.suppress(Exception):
                lock.execute(text("SELECT pg_advisory_unlock_all()"))
                lock.commit()
            with contextlib.suppress(Exception):
                lock.invalidate()
            with contextlib.suppress(Exception):
                lock.close()

    # --- jobs
    def _sync_jobs(self) -> None:
        """Add the jobs that are missing; replace one only when its trigger changed (#696)."""
        assert self.host is not None
        store, scheduler = self.host.store, self.scheduler
        wanted = build_triggers(store.settings, store.clock.tz, self.tick_s)
        for job in scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()  # a kind switched off, or a job of an older tracker
        for job_id, (trigger, reason) in wanted.items():
            job = scheduler.get_job(job_id)
            if (
                job is not None
                and job.func_ref == JOB_FUNC
                and tuple(job.args) == (reason,)
                and _same_trigger(job.trigger, trigger)
            ):
                continue  # keep its stored next run time
            scheduler.add_job(
                JOB_FUNC, trigger, args=[reason], id=job_id, name=job_id, replace_existing=True
            )

    def now(self) -> datetime:
        assert self.host is not None
        return self._now() if self._now is not None else self.host.store.now()

    def deliver(self, reason: str) -> None:
        """One delivery run; logs each delivery; never raises into the scheduler."""
        if self.host is None or self._channels is None:
            return
        store = self.host.store
        with self._lock:
            try:
                result = remind(
                    store,
                    learner_id=store.learner_id,
                    now=self.now(),
                    channels=self._channels,
                    claimed_by=self.claimant,
                )
            except TrackerError as exc:
                self._log(f"reminders ({reason}): {exc}")
                return
            except Exception as exc:  # noqa: BLE001 - the next tick tries again
                self._log(f"reminders ({reason}) failed: {type(exc).__name__}: {exc}")
                return
        for outcome in result.acted:
            self._log(outcome.describe())

    # --- helpers
    def _log(self, message: str) -> None:
        if self.host is not None:
            self.host.log(message)

    def _log_reminder(self, text: str) -> None:
        for line in text.splitlines():
            self._log(f"reminder | {line}")

    def _hold_pg_lock(self) -> None:
        """PostgreSQL: one scheduler per learner and database, across machines."""
        from sqlalchemy import text

        assert self.host is not None
        store = self.host.store
        if store.location.is_sqlite:
            return  # the host's serve lock beside the file already says one
        connection = store.engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:cls, :obj)"),
            {"cls": PG_LOCK_CLASS, "obj": store.learner_id},
        ).scalar()
        connection.commit()
        if not got:
            connection.close()
            raise EnvironmentProblem(
                "another tracker serve already runs the reminder scheduler for "
                f"{store.settings.learner!r} on {store.location.describe()}"
            )
        self._pg_lock = connection
