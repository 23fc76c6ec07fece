"""The reminder scheduler of `tracker serve`: catch-up, restarts, one scheduler, races.

In-process tests run the real service in a real ``Host`` on a thread with an
injected clock (the ``now`` the service passes to the use case); process tests
race a daemon against ``tracker remind --once`` on one SQLite file, and start
``tracker serve`` twice.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.reminder_support import FlakyChannel, WebhookReceiver
from tests.review_support import write_config
from tests.serve_support import TRACKER, start_serve, stop_serve
from tracker.serve.host import Host, Log
from tracker.serve.reminders import JOB_FUNC, JOB_IDS, SCHEDULE_JOB, TICK_JOB, ReminderService

T0 = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)  # after the 09:00 reminder (UTC config)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Running:
    """A Host with only the reminder service, on a thread; its log captured."""

    def __init__(self, store, service: ReminderService) -> None:  # noqa: ANN001
        self.stream = io.StringIO()
        self.host = Host(store, log=Log(self.stream))
        self.service = service
        self.thread = threading.Thread(target=self.host.run, args=([service],), daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 20
        while "ready; Ctrl-C to stop" not in self.stream.getvalue():
            assert self.thread.is_alive(), self.stream.getvalue()
            assert time.monotonic() < deadline, self.stream.getvalue()
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.host.stop()
        self.thread.join(20)
        assert not self.thread.is_alive()

    @property
    def log(self) -> list[str]:
        return self.stream.getvalue().splitlines()


@pytest.fixture
def store(tracker_env: Path) -> Iterator:  # noqa: ANN001
    from tracker.store import open_store

    write_config(tracker_env / "config.toml")
    opened = open_store(now=T0 - timedelta(days=30))
    yield opened
    opened.close()


def deliveries(store) -> list[tuple]:  # noqa: ANN001
    with sqlite3.connect(store.location.sqlite_path) as conn:
        return conn.execute(
            "SELECT local_date, kind, channel, status, note FROM deliveries ORDER BY local_date"
        ).fetchall()


def jobs(store) -> dict[str, tuple[float | None, bytes]]:  # noqa: ANN001
    with sqlite3.connect(store.location.sqlite_path) as conn:
        table = f"apscheduler_jobs_{store.learner_id}"
        return {i: (t, s) for i, t, s in conn.execute(f"SELECT * FROM {table}")}


def serve_once(store, clock: Clock, channel: FlakyChannel, **kw: object) -> list[str]:  # noqa: ANN001
    service = ReminderService(now=clock, channels={"terminal": channel}, tick_s=3600, **kw)
    with Running(store, service) as running:
        pass
    return running.log


def test_stopped_before_the_reminder_time_and_started_after_it_delivers_once(store) -> None:  # noqa: ANN001
    clock, terminal = Clock(T0.replace(hour=8)), FlakyChannel("terminal", 0)
    serve_once(store, clock, terminal)
    assert terminal.tries == [] and deliveries(store) == []
    clock.now = T0  # serve was down at 09:00
    log = serve_once(store, clock, terminal)
    assert len(terminal.tries) == 1
    assert "tracker serve: reminder daily 2026-03-10 via terminal: sent" in log
    clock.now = T0 + timedelta(minutes=15)
    serve_once(store, clock, terminal)
    assert len(terminal.tries) == 1
    assert deliveries(store) == [("2026-03-10", "daily", "terminal", "sent", None)]


def test_started_on_the_next_learner_day_it_records_the_missed_one_as_skipped(store) -> None:  # noqa: ANN001
    clock, terminal = Clock(T0), FlakyChannel("terminal", 0)
    serve_once(store, clock, terminal)
    clock.now = T0 + timedelta(days=1) - timedelta(hours=2)  # stopped before 09:00 on the 11th
    serve_once(store, clock, terminal)
    clock.now = T0 + timedelta(days=2)
    log = serve_once(store, clock, terminal)
    assert deliveries(store) == [
        ("2026-03-10", "daily", "terminal", "sent", None),
        (
            "2026-03-11",
            "daily",
            "terminal",
            "skipped",
            "missed: nothing was running at 09:00 on 2026-03-11",
        ),
        ("2026-03-12", "daily", "terminal", "sent", None),
    ]
    assert len(terminal.tries) == 2
    assert (
        "tracker serve: reminder daily 2026-03-11 via terminal: skipped "
        "(missed: nothing was running at 09:00 on 2026-03-11)"
    ) in log


def test_a_restart_keeps_the_stored_jobs_and_their_next_run_times(store, tracker_env: Path) -> None:  # noqa: ANN001
    clock, terminal = Clock(T0), FlakyChannel("terminal", 0)
    serve_once(store, clock, terminal)
    first = jobs(store)
    assert set(first) == {JOB_IDS["daily"], SCHEDULE_JOB, TICK_JOB}
    for _next_run, state in first.values():
        job = pickle.loads(state)  # noqa: S301 - our own job store, written by this test
        assert job["func"] == JOB_FUNC and len(state) < 2048  # a reference, nothing large
    assert pickle.loads(first[JOB_IDS["daily"]][1])["args"] == ("daily",)
    time.sleep(0.05)
    serve_once(store, clock, terminal)
    second = jobs(store)
    # Re-adding with replace_existing would recompute from now (apscheduler#696).
    for job_id in (JOB_IDS["daily"], SCHEDULE_JOB, TICK_JOB):
        assert second[job_id][0] == first[job_id][0], job_id
    write_config(tracker_env / "config.toml", reminder_time="10:15", streak_reminder_time="21:00")
    from tracker.store import open_store

    moved = open_store(now=T0)
    try:
        serve_once(moved, clock, terminal)
        third = jobs(moved)
    finally:
        moved.close()
    assert set(third) == {JOB_IDS["daily"], JOB_IDS["streak"], SCHEDULE_JOB, TICK_JOB}
    daily = datetime.fromtimestamp(third[JOB_IDS["daily"]][0], UTC)
    assert (daily.hour, daily.minute) == (10, 15)  # the trigger changed: replaced


def test_the_scheduler_fires_the_job_by_its_reference_and_reads_the_database(store) -> None:  # noqa: ANN001
    clock, terminal = Clock(T0), FlakyChannel("terminal", 0)
    service = ReminderService(now=clock, channels={"terminal": terminal}, tick_s=0.5)
    with Running(store, service) as running:
        assert len(terminal.tries) == 1
        clock.now = T0 + timedelta(days=1)
        deadline = time.monotonic() + 10
        while len(terminal.tries) < 2:
            assert time.monotonic() < deadline, running.log
            time.sleep(0.05)
    assert [t.document["date"] for t in terminal.tries] == ["2026-03-10", "2026-03-11"]
    assert running.log[-1] == "tracker serve: stopped"


def test_a_busy_job_store_never_ends_the_scheduler_thread(store, monkeypatch) -> None:  # noqa: ANN001
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from sqlalchemy.exc import OperationalError

    from tracker.serve import jobstore

    monkeypatch.setattr(jobstore, "RETRY_WAITS_S", (0.01, 0.01))
    calls = {"n": 0}
    real = SQLAlchemyJobStore.update_job

    def locked(self, job) -> None:  # noqa: ANN001
        calls["n"] += 1
        if calls["n"] <= 5:
            raise OperationalError("UPDATE", {}, Exception("database is locked"))
        real(self, job)

    monkeypatch.setattr(SQLAlchemyJobStore, "update_job", locked)
    clock, terminal = Clock(T0), FlakyChannel("terminal", 0)
    service = ReminderService(now=clock, channels={"terminal": terminal}, tick_s=0.5)
    with Running(store, service) as running:
        clock.now = T0 + timedelta(days=1)
        deadline = time.monotonic() + 15
        while len(terminal.tries) < 2:
            assert time.monotonic() < deadline, running.log
            time.sleep(0.05)
        assert service.scheduler._thread.is_alive()
    log = "\n".join(running.log)
    assert "job store update: database is locked; retrying" in log
    assert "could not save the next run of tracker-reminder-tick; it may run again" in log


@pytest.mark.postgres
def test_two_schedulers_never_share_a_postgresql_job_store(
    pg_url: str, tracker_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.errors import EnvironmentProblem
    from tracker.store import open_store

    monkeypatch.setenv("TRACKER_DB", pg_url)
    stores = [open_store(now=T0), open_store(now=T0)]
    first = ReminderService(now=Clock(T0), channels={}, tick_s=3600)
    second = ReminderService(now=Clock(T0), channels={}, tick_s=3600)
    try:
        first.start(Host(stores[0], log=Log(io.StringIO())))
        with pytest.raises(EnvironmentProblem) as refused:
            second.start(Host(stores[1], log=Log(io.StringIO())))
        assert str(refused.value) == (
            "another tracker serve already runs the reminder scheduler for 'me' on "
            + stores[0].location.describe()
        )
        first.stop()
        second.start(Host(stores[1], log=Log(io.StringIO())))  # released with the session
        second.stop()
    finally:
        first.stop()
        for opened in stores:
            opened.close()


# --- processes on one real SQLite file ---------------------------------------

DAEMON = """
import sys
from tracker.serve.host import Host
from tracker.serve.reminders import ReminderService
from tracker.store import open_store
Host(open_store()).run([ReminderService()])
"""


def _env(tracker_env: Path, now: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        TRACKER_DB=str(tracker_env / "tracker.db"),
        TRACKER_CONFIG=str(tracker_env / "config.toml"),
        TRACKER_NOW=now,
        TRACKER_REMINDER_INTERVAL_S="0.5",
    )
    return env


def test_a_daemon_and_remind_once_racing_deliver_each_reminder_once(tracker_env: Path) -> None:
    receiver = WebhookReceiver().start()
    try:
        write_config(
            tracker_env / "config.toml", channels=["terminal", "webhook"], webhook_url=receiver.url
        )
        subprocess.run(
            [*TRACKER, "init"], env=_env(tracker_env, "2026-03-01"), check=True, capture_output=True
        )
        rounds = [f"2026-03-{10 + n}T09:30:00+00:00" for n in range(3)]
        printed = 0
        for now in rounds:
            env = _env(tracker_env, now)
            log = tracker_env / "daemon.log"
            daemon = subprocess.Popen(
                [sys.executable, "-c", DAEMON], env=env, stderr=log.open("w"), text=True
            )
            cron = [
                subprocess.Popen(
                    [*TRACKER, "remind", "--once"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
            outputs = [p.communicate(timeout=60) for p in cron]
            deadline = time.monotonic() + 30
            while "ready; Ctrl-C to stop" not in log.read_text():
                assert daemon.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=30) == 0, log.read_text()
            for process, (_out, err) in zip(cron, outputs, strict=True):
                assert process.returncode == 0, err
                assert "locked" not in err
            texts = [log.read_text(), *(out for out, _ in outputs)]
            day = now[:10]
            printed += sum(t.count(f"reminder daily {day} via terminal: sent") for t in texts)
            assert sum(t.count(f"reminder daily {day} via webhook: sent") for t in texts) == 1
        assert printed == len(rounds)
        ids = receiver.ids()
        assert len(ids) == len(set(ids)) == len(rounds)
        with sqlite3.connect(tracker_env / "tracker.db") as conn:
            keys = conn.execute(
                "SELECT local_date, channel, status, attempts FROM deliveries ORDER BY 1, 2"
            ).fetchall()
        assert keys == [
            (now[:10], ch, "sent", 1) for now in rounds for ch in ("terminal", "webhook")
        ]
    finally:
        receiver.stop()


def test_two_remind_once_runs_at_the_same_moment_deliver_once(tracker_env: Path) -> None:
    receiver = WebhookReceiver().start()
    try:
        write_config(tracker_env / "config.toml", channels=["webhook"], webhook_url=receiver.url)
        env = _env(tracker_env, "2026-03-10T09:30:00+00:00")
        subprocess.run([*TRACKER, "init"], env=env, check=True, capture_output=True)
        runs = [
            subprocess.Popen(
                [*TRACKER, "remind", "--once", "--json"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        results = [json.loads(p.communicate(timeout=60)[0]) for p in runs]
        assert sorted(r["deliveries"][0]["status"] for r in results) == [
            "already-sent",
            "already-sent",
            "already-sent",
            "sent",
        ]
        assert len(receiver.received) == 1
    finally:
        receiver.stop()


@pytest.mark.slow
def test_serve_started_twice_refuses_the_second_with_exit_3(tmp_path: Path) -> None:
    served = start_serve(tmp_path, TRACKER_REMINDER_INTERVAL_S="1")
    try:
        log = served.log.read_text()
        assert "reminder scheduler ready (terminal; next daily at " in log
        second = subprocess.run(
            [*TRACKER, "serve"], env=served.env(), capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 3
        lock = served.paths.lock
        assert second.stderr.strip() == (
            f"Error: tracker serve already runs for this database (pid {served.process.pid}) "
            f"(lock {lock})"
        )
        assert served.process.poll() is None
        time.sleep(2.5)  # the first one's scheduler keeps ticking: its jobs are still there
        rows = served.rows("SELECT id FROM apscheduler_jobs_1 ORDER BY id")
        assert [r[0] for r in rows] == sorted([JOB_IDS["daily"], SCHEDULE_JOB, TICK_JOB])
        assert "Traceback" not in served.log.read_text()
    finally:
        assert stop_serve(served) == 0
    assert served.log.read_text().rstrip().endswith("tracker serve: stopped")


def test_the_job_store_table_leaves_the_schema_checks_alone(store, cli_run) -> None:  # noqa: ANN001
    from alembic import command

    from tracker.db.schema import alembic_config

    serve_once(store, Clock(T0), FlakyChannel("terminal", 0))
    assert jobs(store)  # the scheduler's table is there, beside the tracker's
    with store.engine.connect() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.check(config)  # models == migrations: apscheduler_* is not ours to diff
    checked = cli_run("db", "check")
    assert checked.exit_code == 0, checked.output
