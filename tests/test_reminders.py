"""Reminders end to end in one process: decide, claim once, send, record; the commands.

Every run gets an explicit ``now`` (the use case) or ``TRACKER_NOW`` (the
commands); nothing sleeps through real minutes. Channels are real where they
can be (terminal, a local HTTP receiver, a local SMTP server on 127.0.0.1)
and a channel that fails on demand where a failure is the point.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.reminder_support import (
    BrokenChannel,
    FlakyChannel,
    SmtpServer,
    WebhookReceiver,
)
from tests.review_support import pass_lessons, write_config
from tracker.reminders import deliveries
from tracker.reminders.channels import (
    DesktopChannel,
    EmailChannel,
    TerminalChannel,
    WebhookChannel,
    sign,
)
from tracker.usecases.checkin import checkin
from tracker.usecases.reminders import remind, reminder_log

DAY = date(2026, 3, 10)
T0 = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)  # half an hour after the 09:00 reminder (UTC)


@pytest.fixture
def open_with(tracker_env: Path):  # noqa: ANN201
    """Open the store after writing the config file with these values."""
    from tracker.store import open_store

    opened = []

    def make(**config: object):  # noqa: ANN202
        write_config(tracker_env / "config.toml", **config)
        store = open_store(now=T0 - timedelta(days=30))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def rows(store) -> list[tuple]:  # noqa: ANN001
    with sqlite3.connect(store.location.sqlite_path) as conn:
        return conn.execute(
            "SELECT local_date, kind, channel, status, attempts, last_error, note "
            "FROM deliveries ORDER BY local_date, kind, channel"
        ).fetchall()


def statuses(result) -> dict[tuple[str, str], str]:  # noqa: ANN001
    return {(d.kind, d.channel): d.status for d in result.deliveries}


def run(store, now: datetime, **channels) -> object:  # noqa: ANN001, ANN003
    return remind(store, learner_id=store.learner_id, now=now, channels=channels)


# --- deciding once -------------------------------------------------------------


def test_two_runs_the_same_day_deliver_once(open_with) -> None:  # noqa: ANN001
    store = open_with()
    printed: list[str] = []
    terminal = TerminalChannel(printed.append)
    first = run(store, T0, terminal=terminal)
    second = run(store, T0 + timedelta(hours=3), terminal=terminal)
    assert statuses(first) == {("daily", "terminal"): "sent"}
    assert statuses(second) == {("daily", "terminal"): "already-sent"}
    assert len(printed) == 1 and printed[0].startswith("tracker, Tuesday 2026-03-10\n")
    assert rows(store) == [("2026-03-10", "daily", "terminal", "sent", 1, None, None)]
    assert (first.exit_code, second.exit_code) == (0, 0)


def test_before_the_reminder_time_nothing_is_decided(open_with) -> None:  # noqa: ANN001
    store = open_with(reminder_time="18:00")
    channel = FlakyChannel("terminal", 0)
    result = run(store, T0, terminal=channel)
    assert result.deliveries == () and channel.tries == []
    assert (result.next.kind, result.next.at) == ("daily", datetime(2026, 3, 10, 18, tzinfo=UTC))
    assert rows(store) == []


def test_nothing_is_sent_when_there_is_nothing_to_do(open_with) -> None:  # noqa: ANN001
    store = open_with(channels=["terminal", "webhook"])
    checkin(store, learner_id=store.learner_id, now=T0 - timedelta(hours=1))
    terminal, webhook = FlakyChannel("terminal", 0), FlakyChannel("webhook", 0)
    result = run(store, T0, terminal=terminal, webhook=webhook)
    assert terminal.tries == webhook.tries == []
    assert statuses(result) == {("daily", "terminal"): "skipped", ("daily", "webhook"): "skipped"}
    note = "nothing to do: checked in and no reviews due"
    assert [d.note for d in result.deliveries] == [note, note]
    assert rows(store) == [
        ("2026-03-10", "daily", "terminal", "skipped", 0, None, note),
        ("2026-03-10", "daily", "webhook", "skipped", 0, None, note),
    ]


def test_due_cards_and_the_focus_come_from_the_checkins_own_queries(open_with) -> None:  # noqa: ANN001
    store = open_with()
    pass_lessons(store, ("attention-mechanism-1", "2026-03-09T10:00:00+00:00"))
    printed: list[str] = []
    result = run(store, T0, terminal=TerminalChannel(printed.append))
    document = checkin(store, learner_id=store.learner_id, now=T0 + timedelta(minutes=1))
    (reminder,) = result.reminders
    as_json = reminder.as_dict()
    code_cards = as_json["due_code_cards"]
    assert [c["lesson"] for c in code_cards] == ["attention-mechanism-1"]
    assert code_cards[0]["command"] == "tracker submit attention-mechanism-1 FILE --review"
    # The check-in counts every due card; the reminder puts the code card apart.
    assert as_json["due_reviews"] == document.due_reviews  # the cards `review` rates
    assert len(code_cards) == len(document.due_code_cards)
    assert as_json["focus"]["lesson"] == document.focus.lesson
    assert as_json["focus"]["reason"] == document.focus.reason
    text = printed[0].splitlines()
    assert text[1] == f"Reviews due today: {as_json['due_reviews']} cards: run `tracker review`"
    assert "  - " in text[3] and text[3].endswith(
        "`tracker submit attention-mechanism-1 FILE --review`"
    )
    assert text[-1] == "Streak: 1 day so far; not checked in yet today: run `tracker checkin`"


def test_the_streak_reminder_goes_out_in_the_evening_when_the_streak_is_at_risk(
    open_with,  # noqa: ANN001
) -> None:
    store = open_with(reminder_time="off", streak_reminder_time="20:30")
    for days_ago in (2, 1):
        checkin(store, learner_id=store.learner_id, now=T0 - timedelta(days=days_ago))
    evening = datetime(2026, 3, 10, 20, 45, tzinfo=UTC)
    printed: list[str] = []
    assert run(store, T0, terminal=TerminalChannel(printed.append)).deliveries == ()
    result = run(store, evening, terminal=TerminalChannel(printed.append))
    assert statuses(result) == {("streak", "terminal"): "sent"}
    assert printed[0].splitlines()[1] == (
        "Your 2-day streak ends tonight unless you check in: run `tracker checkin`"
    )
    next_day = evening + timedelta(days=1)
    checkin(store, learner_id=store.learner_id, now=next_day - timedelta(hours=2))
    quiet = run(store, next_day, terminal=TerminalChannel(printed.append))
    assert statuses(quiet) == {("streak", "terminal"): "skipped"}
    assert quiet.deliveries[0].note == "streak safe: already active today"
    assert len(printed) == 1


# --- missed days, crashes ------------------------------------------------------


def test_a_missed_learner_day_is_recorded_as_skipped_and_today_is_delivered(
    open_with,  # noqa: ANN001
) -> None:
    store = open_with()
    terminal = FlakyChannel("terminal", 0)
    run(store, T0, terminal=terminal)
    later = run(store, T0 + timedelta(days=2, hours=1), terminal=terminal)
    assert [(d.day.isoformat(), d.status, d.now) for d in later.deliveries] == [
        ("2026-03-11", "skipped", True),
        ("2026-03-12", "sent", True),
    ]
    assert later.deliveries[0].note == "missed: nothing was running at 09:00 on 2026-03-11"
    assert len(terminal.tries) == 2


def test_catching_up_records_at_most_a_week_of_missed_days(open_with) -> None:  # noqa: ANN001
    store = open_with()
    terminal = FlakyChannel("terminal", 0)
    run(store, T0, terminal=terminal)
    run(store, T0 + timedelta(days=30), terminal=terminal)
    skipped = [r[0] for r in rows(store) if r[3] == "skipped"]
    assert skipped == [(DAY + timedelta(days=n)).isoformat() for n in range(23, 30)]
    assert len(skipped) == deliveries.MAX_CATCHUP_DAYS


def test_a_try_whose_process_died_is_closed_and_never_sent_again(open_with) -> None:  # noqa: ANN001
    store = open_with()
    with store.write() as session:  # a process claimed, then died before any outcome
        assert deliveries.claim(
            session,
            learner_id=store.learner_id,
            kind="daily",
            day=DAY,
            channel="terminal",
            now=T0,
            claimed_by="remind@gone:1",
            payload="{}",
        )
    terminal = FlakyChannel("terminal", 0)
    assert statuses(run(store, T0 + timedelta(minutes=5), terminal=terminal)) == {
        ("daily", "terminal"): "already-sent"  # under way elsewhere: its lease still runs
    }
    result = run(store, T0 + deliveries.LEASE + timedelta(seconds=1), terminal=terminal)
    assert terminal.tries == []
    assert statuses(result) == {("daily", "terminal"): "failed"}
    assert rows(store)[0][3:6] == ("failed", 1, deliveries.INTERRUPTED)


# --- failures and retries ------------------------------------------------------


def test_a_failing_channel_does_not_stop_the_others_and_ends_failed_with_its_error(
    open_with,  # noqa: ANN001
) -> None:
    store = open_with(channels=["terminal", "email", "webhook"])
    terminal, webhook = FlakyChannel("terminal", 0), FlakyChannel("webhook", 99)
    broken = BrokenChannel()
    channels = {"terminal": terminal, "email": broken, "webhook": webhook}
    first = remind(store, learner_id=store.learner_id, now=T0, channels=channels)
    assert statuses(first) == {
        ("daily", "terminal"): "sent",
        ("daily", "email"): "failed",
        ("daily", "webhook"): "failed",
    }
    assert first.exit_code == 1
    assert first.deliveries[2].retry_at == T0 + deliveries.BACKOFF[0]
    # Not yet time for the retry: nothing is tried, nothing written.
    early = remind(
        store, learner_id=store.learner_id, now=T0 + timedelta(minutes=1), channels=channels
    )
    assert not early.acted and len(webhook.tries) == 1
    now = T0
    for wait in deliveries.BACKOFF:
        now += wait
        remind(store, learner_id=store.learner_id, now=now, channels=channels)
    assert len(webhook.tries) == deliveries.MAX_ATTEMPTS
    assert len(terminal.tries) == 1
    assert {t.message_id for t in webhook.tries} == {webhook.tries[0].message_id}
    assert rows(store) == [
        ("2026-03-10", "daily", "email", "failed", 4, "email: RuntimeError: boom", None),
        ("2026-03-10", "daily", "terminal", "sent", 1, None, None),
        ("2026-03-10", "daily", "webhook", "failed", 4, "webhook: down (try 4)", None),
    ]
    after = remind(
        store, learner_id=store.learner_id, now=now + timedelta(hours=2), channels=channels
    )
    assert len(webhook.tries) == 4 and not after.acted


def test_a_retry_succeeds_with_the_same_message(open_with) -> None:  # noqa: ANN001
    store = open_with(channels=["webhook"])
    webhook = FlakyChannel("webhook", 1)
    run(store, T0, webhook=webhook)
    second = run(store, T0 + deliveries.BACKOFF[0], webhook=webhook)
    assert [(d.status, d.attempts) for d in second.deliveries] == [("sent", 2)]
    first_try, retry = webhook.tries
    assert (retry.attempt, retry.message_id, retry.text) == (
        2,
        first_try.message_id,
        first_try.text,
    )
    assert retry.created_at == first_try.created_at == T0


def test_retries_stop_at_the_end_of_the_learner_day(open_with) -> None:  # noqa: ANN001
    store = open_with(channels=["webhook"])  # days start at 04:00
    late = datetime(2026, 3, 11, 3, 50, tzinfo=UTC)  # still learner-day 2026-03-10
    webhook = FlakyChannel("webhook", 99)
    first = run(store, late, webhook=webhook)
    assert first.deliveries[0].retry_at == late + deliveries.BACKOFF[0]
    second = run(store, late + deliveries.BACKOFF[0], webhook=webhook)
    # The next wait (10 minutes) would fall on the next learner-day: this was the last try.
    assert [(d.status, d.retry_at) for d in second.deliveries] == [("failed", None)]
    assert rows(store)[0][:5] == ("2026-03-10", "daily", "webhook", "failed", 2)


def test_a_channel_that_cannot_work_here_fails_once_without_retries(open_with) -> None:  # noqa: ANN001
    store = open_with(channels=["desktop"])
    desktop = DesktopChannel(env={"PATH": "/usr/bin:/bin"})
    result = run(store, T0, desktop=desktop)
    message = "desktop: unavailable: no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)"
    assert [(d.status, d.error, d.retry_at) for d in result.deliveries] == [
        ("failed", message, None)
    ]
    assert rows(store)[0][3:6] == ("failed", 1, message)


def test_a_dry_run_records_and_sends_nothing(open_with) -> None:  # noqa: ANN001
    store = open_with(channels=["terminal", "webhook"], streak_reminder_time="21:00")
    terminal, webhook = FlakyChannel("terminal", 0), FlakyChannel("webhook", 0)
    channels = {"terminal": terminal, "webhook": webhook}
    result = remind(store, learner_id=store.learner_id, now=T0, channels=channels, dry_run=True)
    assert statuses(result) == {
        ("daily", "terminal"): "would-send",
        ("daily", "webhook"): "would-send",
        ("streak", "terminal"): "not-due",
        ("streak", "webhook"): "not-due",
    }
    assert [r.kind for r in result.reminders] == ["daily"]
    assert terminal.tries == webhook.tries == [] and rows(store) == []


# --- the email channel ---------------------------------------------------------


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    server = SmtpServer(tmp_path, password="s3cret-pass").start()
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))  # the client trusts the test cert
    yield server
    server.stop()


def test_email_goes_over_starttls_with_a_login_and_one_message_id_for_every_try(
    open_with,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    from email import message_from_bytes

    store = open_with(channels=["email"], **smtp.settings())
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", smtp.password)
    smtp.reject_first = 1
    email = EmailChannel(store.settings)
    first = run(store, T0, email=email)
    error = f"email: 127.0.0.1:{smtp.port} answered 451 4.3.0 try again later"
    assert [(d.status, d.error) for d in first.deliveries] == [("failed", error)]
    second = run(store, T0 + deliveries.BACKOFF[0], email=email)
    assert [d.status for d in second.deliveries] == ["sent"]
    assert smtp.logins == [(smtp.user, smtp.password)] * 2
    tried, delivered = (message_from_bytes(m) for m in smtp.messages)
    key = deliveries.message_id(learner="me", kind="daily", day=DAY, channel="email")
    assert tried["Message-ID"] == delivered["Message-ID"] == f"<reminder-{key}@example.org>"
    assert delivered["Subject"].startswith("tracker: time to check in")
    assert delivered["X-Tracker-Reminder"] == "daily; attempt 2"
    assert "Today's focus: " in delivered.get_payload()
    assert all(smtp.password not in str(row) for row in rows(store))


def test_the_password_file_must_be_private(
    open_with,
    smtp: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.delenv("TRACKER_SMTP_PASSWORD", raising=False)
    secret = tmp_path / "smtp-password"
    secret.write_text(smtp.password + "\n")
    secret.chmod(0o644)
    store = open_with(channels=["email"], smtp_password_file=str(secret), **smtp.settings())
    result = run(store, T0, email=EmailChannel(store.settings))
    message = f"email: {secret} is readable by others (mode 0644): chmod 600 {secret}"
    assert [(d.status, d.error, d.retry_at) for d in result.deliveries] == [
        ("failed", message, None)
    ]
    secret.chmod(0o600)
    again = run(store, T0 + timedelta(days=1), email=EmailChannel(store.settings))
    assert [d.status for d in again.deliveries] == ["sent"]
    assert smtp.logins == [(smtp.user, smtp.password)]


def test_email_without_a_configured_server_says_what_to_set(open_with) -> None:  # noqa: ANN001
    store = open_with(channels=["email"])
    result = run(store, T0, email=EmailChannel(store.settings, env={}))
    assert result.deliveries[0].error == (
        "email: not configured: set smtp_host and email_to (tracker config set smtp_host ...)"
    )


# --- the webhook channel -------------------------------------------------------


@pytest.fixture
def receiver():  # noqa: ANN201
    server = WebhookReceiver().start()
    yield server
    server.stop()


def test_the_webhook_signs_with_standard_webhooks_headers_and_keeps_its_id_on_retries(
    open_with,
    receiver: WebhookReceiver,  # noqa: ANN001
) -> None:
    import base64

    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    store = open_with(channels=["webhook"], webhook_url=receiver.url, webhook_secret=secret)
    receiver.statuses = [500]
    stamps = iter([1773135000, 1773135120])
    webhook = WebhookChannel(store.settings, env={}, timestamp=lambda: next(stamps))
    first = run(store, T0, webhook=webhook)
    port = receiver.server.server_address[1]
    assert first.deliveries[0].error == (
        f"webhook: http://127.0.0.1:{port} answered 500 Internal Server Error"
    )  # the URL's path (often a token) is never shown
    run(store, T0 + deliveries.BACKOFF[0], webhook=webhook)
    tried, delivered = receiver.received
    key = deliveries.message_id(learner="me", kind="daily", day=DAY, channel="webhook")
    assert receiver.ids() == [f"msg_{key}"] * 2
    assert (tried.headers["webhook-timestamp"], delivered.headers["webhook-timestamp"]) == (
        "1773135000",
        "1773135120",
    )
    assert tried.body == delivered.body  # the same message, signed anew for its timestamp
    for request in receiver.received:
        stamp = int(request.headers["webhook-timestamp"])
        expected = sign(secret, request.headers["webhook-id"], stamp, request.body)
        assert request.headers["webhook-signature"] == expected
    document = delivered.document
    assert document["type"] == "tracker.reminder.daily"
    assert document["timestamp"] == T0.isoformat()
    assert document["data"]["date"] == "2026-03-10"


def test_the_signature_matches_the_standard_webhooks_example() -> None:
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_webhook_that_hangs_times_out_while_the_other_channels_go_out(
    open_with,
    receiver: WebhookReceiver,  # noqa: ANN001
) -> None:
    import time

    store = open_with(channels=["terminal", "webhook"], webhook_url=receiver.url, webhook_timeout=1)
    receiver.delay_s = 3
    sent_at: list[float] = []
    started = time.monotonic()
    terminal = TerminalChannel(lambda _text: sent_at.append(time.monotonic() - started))
    result = run(store, T0, terminal=terminal, webhook=WebhookChannel(store.settings, env={}))
    assert statuses(result) == {("daily", "terminal"): "sent", ("daily", "webhook"): "failed"}
    port = receiver.server.server_address[1]
    assert result.deliveries[1].error == f"webhook: http://127.0.0.1:{port} gave no answer in 1 s"
    assert sent_at[0] < 0.5  # not held up by the webhook's wait
    assert time.monotonic() - started < 2.5


# --- the commands --------------------------------------------------------------


def test_remind_once_twice_prints_the_reminder_once(cli_run, tracker_env: Path) -> None:  # noqa: ANN001
    write_config(tracker_env / "config.toml")
    env = {"TRACKER_NOW": "2026-03-10T09:30:00+00:00"}
    first = cli_run("remind", "--once", env=env)
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == "tracker, Tuesday 2026-03-10"
    assert lines[-1] == "reminder daily 2026-03-10 via terminal: sent"
    second = cli_run("remind", "--once", env=env)
    assert second.exit_code == 0
    assert second.stdout == "nothing to deliver now; next: daily at Wed 2026-03-11 09:00 (UTC)\n"


def test_remind_once_json_and_the_exit_code_of_a_failed_try(
    cli_run,
    tracker_env: Path,
    receiver: WebhookReceiver,  # noqa: ANN001
) -> None:
    write_config(
        tracker_env / "config.toml", channels=["terminal", "webhook"], webhook_url=receiver.url
    )
    receiver.statuses = [503]
    result = cli_run("remind", "--once", "--json", env={"TRACKER_NOW": "2026-03-10T09:30:00Z"})
    assert result.exit_code == 1
    document = json.loads(result.stdout)  # nothing else on stdout: the terminal text is inside
    assert document["date"] == "2026-03-10"
    port = receiver.server.server_address[1]
    assert [
        {k: d[k] for k in ("kind", "channel", "status", "error")} for d in document["deliveries"]
    ] == [
        {"kind": "daily", "channel": "terminal", "status": "sent", "error": None},
        {
            "kind": "daily",
            "channel": "webhook",
            "status": "failed",
            "error": f"webhook: http://127.0.0.1:{port} answered 503 Service Unavailable",
        },
    ]
    assert document["deliveries"][1]["retry_at"] == "2026-03-10T09:32:00+00:00"
    assert document["reminders"][0]["text"].startswith("tracker, Tuesday 2026-03-10")
    again = cli_run("remind", "--once", "--json", env={"TRACKER_NOW": "2026-03-10T09:31:00Z"})
    assert again.exit_code == 0
    assert [d["status"] for d in json.loads(again.stdout)["deliveries"]] == [
        "already-sent",
        "failed",
    ]


def test_remind_without_once_only_previews(cli_run, tracker_env: Path, db_path: Path) -> None:  # noqa: ANN001
    write_config(tracker_env / "config.toml")
    result = cli_run("remind", env={"TRACKER_NOW": "2026-03-10T09:30:00Z"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "--- daily: tracker: time to check in; today: attention-mechanism-1"
    assert lines[-3:] == [
        "--- what `tracker remind --once` would do now (dry run: nothing sent)",
        "daily via terminal: would-send",
        "next: daily at Wed 2026-03-11 09:00 (UTC)",
    ]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM deliveries").fetchone() == (0,)


def test_reminders_lists_recent_deliveries_and_the_next_one(cli_run, tracker_env: Path) -> None:  # noqa: ANN001
    write_config(tracker_env / "config.toml", channels=["terminal", "desktop"])
    cli_run(
        "remind",
        "--once",
        env={"TRACKER_NOW": "2026-03-10T09:30:00Z", "DBUS_SESSION_BUS_ADDRESS": ""},
    )
    shown = cli_run("reminders", "--json", env={"TRACKER_NOW": "2026-03-12T10:00:00Z"})
    assert shown.exit_code == 0
    document = json.loads(shown.stdout)
    assert document["next"] == {"kind": "daily", "at": "2026-03-13T09:00:00+00:00"}
    assert [
        {k: r[k] for k in ("date", "kind", "channel", "status", "attempts", "error")}
        for r in document["recent"]
    ] == [
        {
            "date": "2026-03-10",
            "kind": "daily",
            "channel": "desktop",
            "status": "failed",
            "attempts": 1,
            "error": "desktop: unavailable: no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)",
        },
        {
            "date": "2026-03-10",
            "kind": "daily",
            "channel": "terminal",
            "status": "sent",
            "attempts": 1,
            "error": None,
        },
    ]
    assert document["overdue"] == [
        {"kind": "daily", "date": "2026-03-12", "at": "2026-03-12T09:00:00+00:00"}
    ]
    text = cli_run("reminders", env={"TRACKER_NOW": "2026-03-12T10:00:00Z"}).stdout.splitlines()
    assert text[0] == "next reminder: daily at Fri 2026-03-13 09:00 (UTC)"
    assert text[1] == (
        "overdue: daily of 2026-03-12 (due Thu 2026-03-12 09:00) was not delivered: "
        "nothing is running; `tracker remind --once` delivers it now"
    )
    assert text[3].split() == [
        "2026-03-10",
        "daily",
        "desktop",
        "failed",
        "1",
        "try",
        "desktop:",
        "unavailable:",
        "no",
        "D-Bus",
        "session",
        "(DBUS_SESSION_BUS_ADDRESS",
        "is",
        "not",
        "set)",
    ]


def test_the_reminder_log_of_a_fresh_database(open_with) -> None:  # noqa: ANN001
    store = open_with(channels=[])
    log = reminder_log(store, learner_id=store.learner_id, now=T0)
    assert log.as_dict()["recent"] == [] and log.overdue == ()
    from tracker.render.reminders import render_log

    assert render_log(log).splitlines() == [
        "next reminder: daily at Wed 2026-03-11 09:00 (UTC)",
        "no reminder channels: tracker config set channels terminal,email",
        "no reminders recorded yet",
    ]


def test_remind_once_keeps_apscheduler_and_other_heavy_modules_unimported(
    db_path: Path,
    cli_run,
    tracker_env: Path,  # noqa: ANN001
) -> None:
    write_config(tracker_env / "config.toml")
    cli_run("init")
    code = (
        "import sys\n"
        "from tracker.cli import cli\n"
        "try:\n"
        "    cli(['remind', '--once', '--json'], standalone_mode=False)\n"
        "finally:\n"
        "    names = ('apscheduler', 'torch', 'alembic', 'fsrs', 'rich', 'numpy', 'tzlocal')\n"
        "    heavy = sorted(m for m in names if m in sys.modules)\n"
        "    print('HEAVY', heavy, file=sys.stderr)\n"
    )
    env = {"TRACKER_NOW": "2026-03-10T09:30:00Z"}
    import os

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    assert "HEAVY []" in result.stderr
    assert json.loads(result.stdout)["deliveries"][0]["status"] == "sent"


def test_config_show_and_set_never_print_the_webhook_secret(cli_run) -> None:  # noqa: ANN001
    secret = "whsec_c2VjcmV0LXNpZ25pbmcta2V5"
    result = cli_run("config", "set", "webhook_secret", secret)
    assert result.exit_code == 0
    assert result.stdout.startswith("webhook_secret = (set) (saved to ")
    shown = cli_run("config", "show")
    assert secret not in shown.stdout
    line = next(x for x in shown.stdout.splitlines() if x.startswith("webhook_secret "))
    assert line.split("#")[0].split() == ["webhook_secret", "=", "(set)"]
    as_json = cli_run("config", "show", "--json")
    assert secret not in as_json.stdout
    assert json.loads(as_json.stdout)["settings"]["webhook_secret"] == "(set)"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("streak_reminder_time", "7pm", "invalid value for streak_reminder_time: expected a time"),
        ("webhook_url", "ftp://example.org/x", "expected an http:// or https:// URL"),
        ("smtp_port", "0", "between 1 and 65535"),
        ("webhook_timeout", "600", "between 1 and 120"),
    ],
)
def test_bad_reminder_settings_are_refused_in_one_line(
    cli_run,
    key: str,
    value: str,
    message: str,  # noqa: ANN001
) -> None:
    result = cli_run("config", "set", key, value)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_reminder_times_can_be_switched_off(cli_run) -> None:  # noqa: ANN001
    assert cli_run("config", "set", "reminder_time", "off").exit_code == 0
    shown = json.loads(cli_run("config", "show", "--json").stdout)["settings"]
    assert (shown["reminder_time"], shown["streak_reminder_time"]) == ("", "")
    listed = cli_run("reminders")
    assert listed.stdout.splitlines()[0] == (
        "next reminder: no reminder is scheduled (reminder_time and streak_reminder_time are off)"
    )


@pytest.mark.postgres
def test_claims_retries_and_skips_on_postgresql(
    pg_url: str, tracker_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    from tracker.store import open_store

    monkeypatch.setenv("TRACKER_DB", pg_url)
    write_config(tracker_env / "config.toml", channels=["terminal", "webhook"])
    store = open_store(now=T0)
    try:
        terminal, webhook = FlakyChannel("terminal", 0), FlakyChannel("webhook", 1)
        first = run(store, T0, terminal=terminal, webhook=webhook)
        assert statuses(first) == {("daily", "terminal"): "sent", ("daily", "webhook"): "failed"}
        second = run(store, T0 + deliveries.BACKOFF[0], terminal=terminal, webhook=webhook)
        assert [(d.channel, d.status, d.now) for d in second.deliveries] == [
            ("terminal", "already-sent", False),
            ("webhook", "sent", True),
        ]
        later = run(store, T0 + timedelta(days=2), terminal=terminal, webhook=webhook)
        assert [
            (d.day.isoformat(), d.status) for d in later.deliveries if d.channel == "webhook"
        ] == [
            ("2026-03-11", "skipped"),
            ("2026-03-12", "sent"),
        ]
        with store.read() as session:
            found = session.execute(
                text("SELECT local_date, channel, status, attempts FROM deliveries ORDER BY 1, 2")
            ).all()
        assert [(str(d), c, s, a) for d, c, s, a in found] == [
            ("2026-03-10", "terminal", "sent", 1),
            ("2026-03-10", "webhook", "sent", 2),
            ("2026-03-11", "terminal", "skipped", 0),
            ("2026-03-11", "webhook", "skipped", 0),
            ("2026-03-12", "terminal", "sent", 1),
            ("2026-03-12", "webhook", "sent", 1),
        ]
    finally:
        store.close()


def test_the_desktop_channel_runs_notify_send_on_the_session_bus(
    open_with,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    fake = bin_dir / "notify-send"  # stands in for libnotify's program: records, then answers
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" >> "{calls}"\n'
        'if [ -n "$FAIL" ]; then echo "Cannot connect to the session bus" >&2; exit 1; fi\n'
    )
    fake.chmod(0o755)
    store = open_with(channels=["desktop"])
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}
    result = run(store, T0, desktop=DesktopChannel(env=env))
    assert [d.status for d in result.deliveries] == ["sent"]
    args = calls.read_text().splitlines()
    assert args[:3] == [
        "--app-name=tracker",
        "--",
        "tracker: time to check in; today: attention-mechanism-1",
    ]
    assert args[3] == "tracker, Tuesday 2026-03-10"
    failing = run(store, T0 + timedelta(days=1), desktop=DesktopChannel(env={**env, "FAIL": "1"}))
    assert [(d.status, d.error) for d in failing.deliveries] == [
        ("failed", "desktop: notify-send failed: Cannot connect to the session bus")
    ]
    assert failing.deliveries[0].retry_at is not None  # a bus can come back: tried again


def test_every_setting_parses_its_own_default() -> None:
    from dataclasses import fields

    from tracker.config import PARSERS, Settings, parse_value

    defaults = Settings()
    assert set(PARSERS) == {f.name for f in fields(Settings)}
    for key in PARSERS:
        assert parse_value(key, getattr(defaults, key)) == getattr(defaults, key), key
    assert parse_value("smtp_password_file", "~/pw") == str(Path("~/pw").expanduser())


def test_each_outcome_is_recorded_as_soon_as_it_is_known(open_with) -> None:  # noqa: ANN001
    import time

    store = open_with(channels=["terminal", "email"])
    seen: list[list[tuple]] = []

    class SlowChannel:
        name = "email"

        def send(self, message) -> None:  # noqa: ANN001
            time.sleep(1.0)  # the terminal's outcome is in the database meanwhile
            seen.append(rows(store))

    run(store, T0, terminal=FlakyChannel("terminal", 0), email=SlowChannel())
    (during,) = seen
    assert ("2026-03-10", "daily", "terminal", "sent", 1, None, None) in during
    assert [r[3] for r in rows(store)] == ["sent", "sent"]
