"""Which automatic backups to keep: Anki's rule, as a pure function of (today, backups).

Walking from the newest backup back in time: everything from yesterday on is
kept; then the newest backup of each earlier day until 12 days are kept, then
the newest of each earlier week until 10 weeks are, then the newest of each
earlier month until 9 months are; everything else is obsolete. A day, week or
month only counts when it is older than the last one kept, so one busy day
never uses up the weekly or monthly allowance. (Anki: rslib/src/collection/
backup.rs, ``BackupFilter``; weeks are days since 0001-01-01 divided by 7.)

Standard library only and no I/O: the files are `tracker.db.backups`' job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

DAILY, WEEKLY, MONTHLY = 12, 10, 9


class Dated(Protocol):
    """A backup as thinning sees it: when it was taken and which learner-day that was."""

    @property
    def taken_at(self) -> datetime: ...

    @property
    def day(self) -> date: ...


T = TypeVar("T", bound=Dated)


@dataclass(frozen=True)
class Limits:
    daily: int = DAILY
    weekly: int = WEEKLY
    monthly: int = MONTHLY


def _week(day: date) -> int:
    return day.toordinal() // 7


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def obsolete_backups(today: date, backups: Sequence[T], limits: Limits = Limits()) -> list[T]:
    """The backups to delete, newest first; every other one is kept."""
    yesterday = today - timedelta(days=1)
    daily, weekly, monthly = limits.daily, limits.weekly, limits.monthly
    last_day: date | None = None  # the day, week and month of the last backup kept
    last_week = last_month = None
    obsolete: list[T] = []
    for backup in sorted(backups, key=lambda b: b.taken_at, reverse=True):
        day = backup.day
        if day >= yesterday:
            keep, stage = True, None
        elif daily > 0:
            keep, stage = last_day is None or day < last_day, "daily"
        elif weekly > 0:
            keep, stage = last_week is None or _week(day) < last_week, "weekly"
        elif monthly > 0:
            keep, stage = last_month is None or _month(day) < last_month, "monthly"
        else:
            keep, stage = False, None
        if not keep:
            obsolete.append(backup)
            continue
        last_day, last_week, last_month = day, _week(day), _month(day)
        if stage == "daily":
            daily -= 1
        elif stage == "weekly":
            weekly -= 1
        elif stage == "monthly":
            monthly -= 1
    return obsolete
