"""When reminders fire: the scheduler's cron triggers and the pure schedule agree, across DST.

APScheduler 3 has had cron bugs at DST changes (agronholm/apscheduler#606 skipped
a day, #1021 looped on the repeated hour). These walk the spring and autumn
changes of America/New_York and Europe/Helsinki with the very triggers the
reminder service builds, and deliver at each fire time with an injected clock:
every learner-day gets its reminder once, at the configured local time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.review_support import write_config
from tracker.clock import Clock
from tracker.config import Settings
from tracker.reminders.channels import TerminalChannel
from tracker.reminders.schedule import fire_instant, next_slot, slots_due
from tracker.serve.reminders import JOB_IDS, SCHEDULE_JOB, build_triggers

# (zone, the day before the change, local time, what the change does to it)
CHANGES = [
    ("America/New_York", date(2026, 3, 7), "09:00", "spring"),
    ("America/New_York", date(2026, 10, 31), "09:00", "autumn"),
    ("America/New_York", date(2026, 3, 7), "02:30", "spring gap"),
    ("America/New_York", date(2026, 10, 31), "01:30", "autumn repeat"),
    ("Europe/Helsinki", date(2026, 3, 28), "09:00", "spring"),
    ("Europe/Helsinki", date(2026, 10, 24), "09:00", "autumn"),
    ("Europe/Helsinki", date(2026, 3, 28), "03:30", "spring gap"),
    ("Europe/Helsinki", date(2026, 10, 24), "03:30", "autumn repeat"),
]
DAYS = 6  # from three days before the change to three after


def cron_fires(zone: str, at: str, start: datetime, end: datetime) -> list[datetime]:
    settings = Settings(timezone=zone, reminder_time=at)
    trigger, reason = build_triggers(settings, ZoneInfo(zone), 300)[JOB_IDS["daily"]]
    assert reason == "daily"
    fires, previous, now = [], None, start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire.astimezone(UTC) > end:
            return fires
        # In UTC: aware datetimes of one zone compare by wall time, blind to fold.
        moved = previous is None or fire.astimezone(UTC) > previous.astimezone(UTC)
        assert moved, "the trigger must move forward (#1021)"
        assert len(fires) < 20, "the trigger loops"
        fires.append(fire.astimezone(UTC))
        previous, now = fire, fire


@pytest.mark.parametrize("day_starts_at", [4, 0])
@pytest.mark.parametrize(("zone", "before", "at", "change"), CHANGES)
def test_the_cron_trigger_fires_once_a_learner_day_at_the_local_time(
    zone: str, before: date, at: str, change: str, day_starts_at: int
) -> None:
    clock = Clock(tz=ZoneInfo(zone), day_starts_at=day_starts_at)
    local = time(*map(int, at.split(":")))
    first = before - timedelta(days=2)
    days = [first + timedelta(days=n) for n in range(DAYS)]
    start = clock.day_start(days[0])
    end = clock.day_end(days[-1]) - timedelta(seconds=1)
    fires = cron_fires(zone, at, start, end)
    by_day: dict[date, list[datetime]] = {}
    for fire in fires:
        by_day.setdefault(clock.local_day(fire), []).append(fire)
    if local.hour < day_starts_at and change == "spring gap" and zone == "Europe/Helsinki":
        # 03:30 does not exist on the change's night, and 04:30 (where the cron
        # trigger goes) is past the day boundary: the pure schedule keeps the
        # reminder inside its learner-day, and the service's schedule job fires it.
        night = before
        assert fire_instant(night, local, clock) == clock.day_end(night) - timedelta(seconds=1)
        assert night not in by_day and len(by_day[night + timedelta(days=1)]) == 2
        return
    assert sorted(by_day) == days, f"{change}: a learner-day without its reminder (#606)"
    for day in days:
        # The pure schedule (what `remind --once` and `reminders` use) is the first fire.
        assert by_day[day][0] == fire_instant(day, local, clock), (change, day)
    repeats = {day: len(f) for day, f in by_day.items() if len(f) > 1}
    if change == "autumn repeat":
        # The cron trigger fires at both 01:30s; the ledger makes the second a no-op.
        assert list(repeats.values()) == [2]
    else:
        assert repeats == {}
    if change in ("spring", "autumn"):
        walls = {fire.astimezone(ZoneInfo(zone)).strftime("%H:%M") for fire in fires}
        assert walls == {at}
        offsets = {fire.astimezone(ZoneInfo(zone)).utcoffset() for fire in fires}
        assert len(offsets) == 2  # the change happened inside the window


def test_a_time_in_the_spring_gap_fires_an_hour_later_on_the_wall_clock() -> None:
    ny = Clock(tz=ZoneInfo("America/New_York"), day_starts_at=0)
    instant = fire_instant(date(2026, 3, 8), time(2, 30), ny)
    assert instant == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    helsinki = Clock(tz=ZoneInfo("Europe/Helsinki"), day_starts_at=0)
    assert fire_instant(date(2026, 3, 29), time(3, 30), helsinki) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


def test_a_time_before_the_day_boundary_belongs_to_the_night_of_that_learner_day() -> None:
    clock = Clock(tz=ZoneInfo("Europe/Helsinki"), day_starts_at=4)
    instant = fire_instant(date(2026, 6, 10), time(2, 0), clock)
    assert instant.astimezone(clock.tz) == datetime(2026, 6, 11, 2, 0, tzinfo=clock.tz)
    assert clock.local_day(instant) == date(2026, 6, 10)


def test_slots_due_and_the_next_slot() -> None:
    settings = Settings(
        timezone="Europe/Helsinki", reminder_time="09:00", streak_reminder_time="20:30"
    )
    clock = settings.clock
    morning = datetime(2026, 6, 10, 5, 0, tzinfo=UTC)  # 08:00 local
    assert slots_due(settings, clock, morning) == []
    upcoming = next_slot(settings, clock, morning)
    assert (upcoming.kind, upcoming.at) == ("daily", datetime(2026, 6, 10, 6, 0, tzinfo=UTC))
    evening = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)  # 21:00 local
    assert [s.kind for s in slots_due(settings, clock, evening)] == ["daily", "streak"]
    upcoming = next_slot(settings, clock, evening)
    assert (upcoming.kind, upcoming.day) == ("daily", date(2026, 6, 11))
    off = Settings(timezone="UTC", reminder_time="", streak_reminder_time="")
    assert next_slot(off, off.clock, evening) is None
    assert slots_due(off, off.clock, evening) == []


def service_fires(zone: str, at: str, clock: Clock, start: datetime, end: datetime) -> list:
    """When the service runs a delivery: every cron fire, and every fire of its schedule job."""
    settings = Settings(timezone=zone, reminder_time=at, day_starts_at=clock.day_starts_at)
    trigger, reason = build_triggers(settings, clock.tz, 300)[SCHEDULE_JOB]
    assert reason == "schedule"
    fires = set(cron_fires(zone, at, start, end))
    previous = None
    while (fire := trigger.get_next_fire_time(previous, start)) is not None and fire <= end:
        assert previous is None or fire > previous
        fires.add(fire.astimezone(UTC))
        previous = fire
    return sorted(fires)


@pytest.mark.parametrize("day_starts_at", [4, 0])
@pytest.mark.parametrize(("zone", "before", "at", "change"), CHANGES)
def test_delivering_at_every_scheduled_run_sends_one_reminder_a_day(
    tracker_env: Path, zone: str, before: date, at: str, change: str, day_starts_at: int
) -> None:
    from tracker.store import open_store
    from tracker.usecases.reminders import remind

    write_config(
        tracker_env / "config.toml", timezone=zone, reminder_time=at, day_starts_at=day_starts_at
    )
    store = open_store(now=datetime(2026, 1, 1, tzinfo=UTC))
    printed: list[str] = []
    channels = {"terminal": TerminalChannel(printed.append)}
    clock = store.clock
    first = before - timedelta(days=2)
    start = clock.day_start(first)
    end = clock.day_end(first + timedelta(days=DAYS - 1)) - timedelta(seconds=1)
    try:
        for fire in service_fires(zone, at, clock, start, end):
            remind(store, learner_id=store.learner_id, now=fire, channels=channels)
    finally:
        store.close()
    days = [line.split(", ", 1)[1].split()[1] for line in printed if line.startswith("tracker, ")]
    assert days == [(first + timedelta(days=n)).isoformat() for n in range(DAYS)], change
