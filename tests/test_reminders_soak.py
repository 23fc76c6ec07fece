"""Soak: `tracker serve` with its scheduler ticking every two seconds while a loop writes.

About a minute per database (SQLite, then the local PostgreSQL): a real
`tracker serve` whose reminder scheduler ticks every two seconds (the
test-only ``TRACKER_REMINDER_INTERVAL_S``) and delivers through every channel
that can run here (terminal, a webhook receiver and an SMTP server with
STARTTLS, all on 127.0.0.1), while a loop of check-ins, reviews, submissions
(handed to the same serve) and racing `tracker remind --once` runs writes to
the same database. No "database is locked" may reach a user, no write may be
lost, and every delivery key must arrive exactly once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest

from tests.reminder_support import SmtpServer, WebhookReceiver
from tests.review_support import write_config
from tests.serve_support import ROOT, TRACKER

LOOP_S = 45.0
TICK_S = "2"
BASE_DAY = datetime(2026, 1, 5, 12, tzinfo=UTC)
SUBMISSION = ROOT / "tests" / "submissions" / "attention-mechanism-1" / "correct_matmul.py"


def passed_time(now: datetime) -> str:
    """A reminder time a few minutes ago today (days start at 00:00 UTC here)."""
    earlier = max(now - timedelta(minutes=3), now.replace(hour=0, minute=0))
    return earlier.strftime("%H:%M")


class Rows:
    """Counts rows on either database through the tracker's own engine."""

    def __init__(self, db: str) -> None:
        from tracker.db.engine import create_engine_for, resolve_location

        self.engine = create_engine_for(resolve_location(db))

    def all(self, sql: str) -> list[tuple]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]

    def close(self) -> None:
        self.engine.dispose()


def soak(folder: Path, db: str) -> None:
    receiver = WebhookReceiver().start()
    smtp = SmtpServer(folder).start()
    now = datetime.now(UTC)
    try:
        write_config(
            folder / "config.toml",
            day_starts_at=0,
            reminder_time=passed_time(now),
            streak_reminder_time=passed_time(now),
            channels=["terminal", "webhook", "email"],
            webhook_url=receiver.url,
            **smtp.settings(),
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env.update(
            TRACKER_DB=db,
            TRACKER_CONFIG=str(folder / "config.toml"),
            SSL_CERT_FILE=str(smtp.cert),
            TRACKER_REMINDER_INTERVAL_S=TICK_S,
        )

        def tracker(*args: str, now: datetime | None = None) -> subprocess.CompletedProcess:
            extra = {"TRACKER_NOW": now.isoformat()} if now else {}
            return subprocess.run(
                [*TRACKER, *args],
                env={**env, **extra},
                capture_output=True,
                text=True,
                timeout=120,
            )

        setup = tracker("learn", "transformer-1", "--yes", now=BASE_DAY)
        assert setup.returncode == 0, setup.stderr
        log = folder / "serve.log"
        serve = subprocess.Popen(
            [*TRACKER, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("w")
        )
        deadline = time.monotonic() + 120
        while "ready; Ctrl-C to stop" not in log.read_text():
            assert serve.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        done: Counter[str] = Counter()
        outputs: list[str] = []
        failures: list[str] = []
        ends = time.monotonic() + LOOP_S
        day = 0
        while time.monotonic() < ends:
            day += 1
            when = BASE_DAY + timedelta(days=day)
            steps = [
                ("checkin", ("checkin",)),
                ("review", ("review", str(1 + day % 3), "--rating", "good")),
            ]
            if day % 2 == 0:
                steps.append(("submit", ("submit", "attention-mechanism-1", str(SUBMISSION))))
            for name, args in steps:
                result = tracker(*args, now=when)
                if result.returncode == 0:
                    done[name] += 1
                else:
                    failures.append(f"{name}: exit {result.returncode}: {result.stderr.strip()}")
                if "locked" in result.stderr.lower():
                    failures.append(f"{name}: {result.stderr.strip()}")
            racing = tracker("remind", "--once")  # the real clock, like the daemon
            outputs.append(racing.stdout)
            if racing.returncode != 0 or "locked" in racing.stderr.lower():
                failures.append(f"remind: exit {racing.returncode}: {racing.stderr.strip()}")
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0, log.read_text()[-3000:]
        served = log.read_text()
        assert failures == []
        assert "locked" not in served.lower() and "Traceback" not in served
        assert done["checkin"] >= 5 and done["review"] >= 5 and done["submit"] >= 2
        rows = Rows(db)
        try:
            # No write lost: every command that succeeded left its row.
            assert rows.all("SELECT count(*) FROM checkins")[0][0] == done["checkin"]
            assert rows.all("SELECT count(*) FROM review_logs")[0][0] == done["review"]
            assert rows.all("SELECT count(*) FROM submissions")[0][0] == done["submit"]
            keys = rows.all("SELECT local_date, kind, channel, status FROM deliveries")
            ticked = rows.all(
                "SELECT next_run_time FROM apscheduler_jobs_1 WHERE id = 'tracker-reminder-tick'"
            )
        finally:
            rows.close()
        assert len(keys) == len({k[:3] for k in keys})
        statuses = {k[3] for k in keys}
        assert statuses <= {"sent", "skipped"}, keys
        sent = Counter(channel for _day, _kind, channel, status in keys if status == "sent")
        assert sent["webhook"] >= 1  # the daily reminder at least: not checked in today
        # Each delivery key arrived exactly once, on every channel.
        ids = receiver.ids()
        assert len(ids) == len(set(ids)) == sent["webhook"]
        message_ids = [message_from_bytes(m)["Message-ID"] for m in smtp.messages]
        assert len(message_ids) == len(set(message_ids)) == sent["email"]
        terminal = sum(t.count("via terminal: sent") for t in [served, *outputs])
        assert terminal == sent["terminal"]
        # The scheduler was still ticking at the end.
        assert abs(ticked[0][0] - time.time()) < 30
    finally:
        smtp.stop()
        receiver.stop()


@pytest.mark.slow
def test_soak_on_sqlite(tmp_path: Path) -> None:
    soak(tmp_path, str(tmp_path / "tracker.db"))
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.slow
@pytest.mark.postgres
def test_soak_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    soak(tmp_path, pg_url)
