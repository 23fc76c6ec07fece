"""The reminder daemon and four writers on one database (issue 15: concurrency).

`tracker serve` (its reminder scheduler ticking every two seconds) and four
writer processes (tests/concurrency_writer.py: check-ins, reviews, ``learn``,
``import posts`` and a racing ``remind --once``, each a real ``tracker``
process) on one database for ``CONCURRENCY_S`` seconds (default 20; 60 for
the full minute; each writer makes at least two steps however loaded the
machine): nothing on any stderr, every exit 0, every successful write a row,
and each reminder delivered exactly once on every channel (a webhook receiver
and an SMTP server on 127.0.0.1). SQLite, then PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest

from tests.concurrency_support import TRACKER, Rows, base_env
from tests.reminder_support import SmtpServer, WebhookReceiver
from tests.review_support import write_config

ROOT = Path(__file__).resolve().parents[1]
WRITER = ROOT / "tests" / "concurrency_writer.py"
ROLES = ("checkin-even", "checkin-odd", "review", "study")


def passed_time(now: datetime) -> str:
    """A reminder time a few minutes ago today (days start at 00:00 UTC here)."""
    earlier = max(now - timedelta(minutes=3), now.replace(hour=0, minute=0))
    return earlier.strftime("%H:%M")


def wait_for(log: Path, text: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def daemon_and_four_writers(folder: Path, db: str) -> None:
    seconds = float(os.environ.get("CONCURRENCY_S", 20))
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
        env = {
            **base_env(folder, db),
            "SSL_CERT_FILE": str(smtp.cert),
            "TRACKER_REMINDER_INTERVAL_S": "2",
        }
        setup = subprocess.run(
            [*TRACKER, "learn", "transformer-1", "--yes"],
            env={**env, "TRACKER_NOW": "2024-01-01T12:00:00+00:00"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert setup.returncode == 0, setup.stderr
        served_log = folder / "serve.log"
        serve = subprocess.Popen(
            [*TRACKER, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=served_log.open("w")
        )
        wait_for(served_log, "ready; Ctrl-C to stop", serve)
        logs = [folder / f"writer-{role}.jsonl" for role in ROLES]
        writers = [
            subprocess.Popen(
                [sys.executable, str(WRITER), role, str(seconds), str(log)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for role, log in zip(ROLES, logs, strict=True)
        ]
        for writer in writers:
            out, err = writer.communicate(timeout=seconds + 240)
            assert (writer.returncode, out, err) == (0, "", ""), err
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0, served_log.read_text()[-3000:]
        served = served_log.read_text()
        entries = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
        # Zero errors shown to users: every command exit 0 with nothing on stderr.
        shown = [(e["role"], e["args"], e["rc"], e["stderr"]) for e in entries]
        assert [s for s in shown if s[2] != 0 or s[3]] == []
        assert "Traceback" not in served and "locked" not in served.lower()
        done = Counter((e["role"], e["args"][0]) for e in entries if e["rc"] == 0)
        checkins = done["checkin-even", "checkin"] + done["checkin-odd", "checkin"]
        assert done["checkin-odd", "remind"] >= 1, done
        assert (
            min(
                checkins, done["review", "review"], *(done["study", c] for c in ("learn", "import"))
            )
            >= 2
        ), done
        rows = Rows(db)
        try:
            # Zero lost writes: every command that succeeded left its row.
            assert rows.one("SELECT count(*) FROM checkins") == checkins
            assert rows.one("SELECT count(*) FROM review_logs") == done["review", "review"]
            assert (
                rows.one("SELECT count(*) FROM study_sessions WHERE kind = 'study'")
                + rows.one("SELECT count(*) FROM practice_attempts WHERE kind = 'study'")
                == done["study", "learn"] + 1  # and the setup's
            )
            assert (
                rows.one("SELECT count(*) FROM study_sessions WHERE kind = 'import'")
                == done["study", "import"]
            )
            keys = rows.all("SELECT local_date, kind, channel, status FROM deliveries")
        finally:
            rows.close()
        # Each reminder delivered exactly once: one claim per key, one arrival per claim.
        assert len(keys) == len({k[:3] for k in keys})
        assert {k[3] for k in keys} <= {"sent", "skipped"}, keys
        sent = Counter(channel for _day, _kind, channel, status in keys if status == "sent")
        assert sent["webhook"] >= 1 and sent["email"] >= 1, keys
        ids = receiver.ids()
        assert len(ids) == len(set(ids)) == sent["webhook"]
        message_ids = [message_from_bytes(m)["Message-ID"] for m in smtp.messages]
        assert len(message_ids) == len(set(message_ids)) == sent["email"]
        reminded = [e["stdout"] for e in entries if e["args"][0] == "remind"]
        terminal = sum(t.count("via terminal: sent") for t in [served, *reminded])
        assert terminal == sent["terminal"]
        print(f"\n{seconds:.0f} s: {dict(done)}; deliveries sent {dict(sent)}")
    finally:
        smtp.stop()
        receiver.stop()


@pytest.mark.slow
def test_the_daemon_and_four_writers_on_sqlite(tmp_path: Path) -> None:
    daemon_and_four_writers(tmp_path, str(tmp_path / "tracker.db"))
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_daemon_and_four_writers_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    daemon_and_four_writers(tmp_path, pg_url)
