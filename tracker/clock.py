"""The one place that answers "what time is it" and "which learner-day is this".

Everything stored is a UTC instant. A learner-day is a local calendar date in
the configured timezone whose start is shifted by the day boundary (default
04:00), so work at 01:30 counts for the day before. ``TRACKER_NOW`` replaces
the wall clock everywhere: back-filling a missed day and tests that live
through months both go through here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.errors import ConfigError

NOW_ENV = "TRACKER_NOW"


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown timezone {name!r}: use an IANA name such as Europe/Berlin"
        ) from exc


def system_timezone_name() -> str:
    """The machine's IANA zone name, or UTC when it cannot be told."""
    candidate = os.environ.get("TZ", "").lstrip(":")
    if candidate:
        try:
            ZoneInfo(candidate)
            return candidate
        except (ZoneInfoNotFoundError, ValueError):
            pass
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    timezone_file = Path("/etc/timezone")
    if timezone_file.is_file():
        name = timezone_file.read_text(encoding="utf-8").strip()
        if name:
            return name
    return "UTC"


MIN_YEAR, MAX_YEAR = 1900, 9000  # room for every day boundary and interval arithmetic


def parse_instant(text: str, tz: tzinfo) -> datetime:
    """An ISO 8601 datetime as an aware UTC instant; no offset means ``tz``.

    A bare date means noon of that local day, so ``TRACKER_NOW=2025-11-10``
    lands inside that learner-day whatever the day boundary.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(12, 0))
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"not an ISO 8601 datetime: {text!r}") from exc
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ConfigError(f"{text!r} is out of range: use a year from {MIN_YEAR} to {MAX_YEAR}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Clock:
    """Time as one learner sees it: a timezone and the hour their day starts."""

    tz: ZoneInfo
    day_starts_at: int = 4

    def now(self) -> datetime:
        override = os.environ.get(NOW_ENV)
        if override:
            try:
                return parse_instant(override, self.tz)
            except ConfigError as exc:
                raise ConfigError(f"{NOW_ENV}: {exc}") from exc
        return datetime.now(UTC)

    def local_day(self, instant: datetime) -> date:
        """The learner-day an instant belongs to."""
        if instant.tzinfo is None:
            raise ValueError("naive datetime: tracker works with aware instants only")
        local = instant.astimezone(self.tz)
        # Wall-clock arithmetic on purpose: the boundary is a local hour, even across DST.
        return (local.replace(tzinfo=None) - timedelta(hours=self.day_starts_at)).date()

    def today(self) -> date:
        return self.local_day(self.now())

    def day_start(self, day: date) -> datetime:
        """The UTC instant a learner-day begins."""
        local = datetime.combine(day, time(self.day_starts_at), tzinfo=self.tz)
        return local.astimezone(UTC)

    def day_end(self, day: date) -> datetime:
        """The UTC instant a learner-day ends (the next one's start)."""
        return self.day_start(day + timedelta(days=1))

    def local_time(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)
