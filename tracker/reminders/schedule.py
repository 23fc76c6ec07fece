"""When each reminder kind is due, in the learner's own time: pure, no clock read.

A kind's time (``reminder_time``, ``streak_reminder_time``) is a local wall
time. The reminder of learner-day D fires at that time on D's calendar date,
or on the next date when the time is earlier than ``day_starts_at`` (a
02:00 reminder with days starting at 04:00 belongs to the night of D). Across
DST this follows APScheduler's cron trigger (tests/test_reminders_schedule.py
checks both against each other): a time inside the spring gap fires at the
same instant as the wall time before the change says (02:30 EST, which is
03:30 EDT), and a repeated autumn time counts once, at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tracker.clock import Clock
from tracker.config import Settings

ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Slot:
    """One kind's reminder for one learner-day, and the instant it is due."""

    kind: str
    day: date
    at: datetime  # UTC

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "date": self.day.isoformat(), "at": self.at.isoformat()}


def kind_times(settings: Settings) -> dict[str, time]:
    """The enabled kinds and their local times (a kind set to "" or off is left out)."""
    found = {}
    for kind, value in (
        ("daily", settings.reminder_time),
        ("streak", settings.streak_reminder_time),
    ):
        if value:
            hours, minutes = value.split(":")
            found[kind] = time(int(hours), int(minutes))
    return found


def fire_instant(day: date, at: time, clock: Clock) -> datetime:
    """The UTC instant the reminder at local time ``at`` of learner-day ``day`` is due."""
    calendar = day if at.hour >= clock.day_starts_at else day + timedelta(days=1)
    # fold=0: a repeated time means its first occurrence; a time in the gap
    # resolves with the offset in force before the change, as the cron trigger does.
    instant = datetime.combine(calendar, at, tzinfo=clock.tz).astimezone(UTC)
    # A gap time just before the day boundary could land in the next learner-day.
    return min(instant, clock.day_end(day) - ONE_SECOND)


def slots_due(settings: Settings, clock: Clock, now: datetime) -> list[Slot]:
    """The kinds whose reminder of the current learner-day is due at ``now``."""
    today = clock.local_day(now)
    slots = []
    for kind, at in kind_times(settings).items():
        instant = fire_instant(today, at, clock)
        if instant <= now:
            slots.append(Slot(kind, today, instant))
    return slots


def next_slot(settings: Settings, clock: Clock, now: datetime) -> Slot | None:
    """The earliest reminder due strictly after ``now``, over today and the next days."""
    today = clock.local_day(now)
    upcoming = []
    for kind, at in kind_times(settings).items():
        for offset in range(3):  # today, or the next day; a third day covers boundary edges
            day = today + timedelta(days=offset)
            instant = fire_instant(day, at, clock)
            if instant > now:
                upcoming.append(Slot(kind, day, instant))
                break
    return min(upcoming, key=lambda slot: slot.at, default=None)
