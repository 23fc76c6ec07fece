"""Review statistics for the report: pure functions over plain values.

No session, no clock reads: callers load ratings, dates and card states
(``tracker.reviews.review_summary`` does it for one learner) and pass them in,
so every figure can be tested with a handful of literals.

- true retention: the share of reviews not rated Again, per day, week
  (Monday start), month or overall;
- reviews per day over a date range, zeros included;
- a due forecast: cards falling due on each of the next N learner-days
  (overdue cards count for today);
- average retrievability now: the mean predicted probability of recall of
  the reviewed cards, from fsrs with the learner's parameters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from tracker.clock import Clock

AGAIN = 1
Period = Literal["day", "week", "month", "all"]


@dataclass(frozen=True)
class RetentionPeriod:
    start: date | None  # None for the "all" period
    reviews: int
    recalled: int

    @property
    def retention(self) -> float | None:
        return self.recalled / self.reviews if self.reviews else None


def period_start(day: date, period: Period) -> date | None:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "all":
        return None
    raise ValueError(f"unknown period {period!r}: day, week, month or all")


def true_retention(
    reviews: Iterable[tuple[date, int]], *, period: Period = "month"
) -> list[RetentionPeriod]:
    """Share of (learner-day, rating) reviews not rated Again, per period, oldest first."""
    totals: Counter[date | None] = Counter()
    recalled: Counter[date | None] = Counter()
    for day, rating in reviews:
        if rating not in (1, 2, 3, 4):
            raise ValueError(f"rating {rating!r} is not 1-4")
        key = period_start(day, period)
        totals[key] += 1
        if rating != AGAIN:
            recalled[key] += 1
    keys = sorted(totals, key=lambda k: k or date.min)
    return [RetentionPeriod(start=k, reviews=totals[k], recalled=recalled[k]) for k in keys]


def overall_retention(reviews: Iterable[tuple[date, int]]) -> float | None:
    periods = true_retention(reviews, period="all")
    return periods[0].retention if periods else None


def reviews_per_day(days: Iterable[date], *, start: date, end: date) -> list[tuple[date, int]]:
    """Reviews on each learner-day from ``start`` to ``end`` inclusive, zeros included."""
    if end < start:
        raise ValueError("end is before start")
    counts = Counter(days)
    span = (end - start).days + 1
    return [(start + timedelta(days=i), counts[start + timedelta(days=i)]) for i in range(span)]


def due_forecast(
    dues: Iterable[datetime], *, clock: Clock, today: date, days: int = 30
) -> list[tuple[date, int]]:
    """Cards due on each of ``days`` learner-days from today; overdue ones count for today."""
    if days < 1:
        raise ValueError("days must be at least 1")
    last = today + timedelta(days=days - 1)
    counts: Counter[date] = Counter()
    for due in dues:
        day = max(clock.local_day(due), today)
        if day <= last:
            counts[day] += 1
    return [(today + timedelta(days=i), counts[today + timedelta(days=i)]) for i in range(days)]


def average_retrievability(
    cards: Iterable[tuple[float | None, datetime | None]],
    *,
    now: datetime,
    parameters: Sequence[float] | None = None,
) -> float | None:
    """Mean fsrs retrievability at ``now`` of (stability, last_review) pairs.

    Cards never reviewed (no stability) are left out; None when none is left.
    """
    from fsrs import Card, Scheduler, State
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from tracker.scheduling import as_utc

    scheduler = Scheduler(parameters=parameters or DEFAULT_PARAMETERS, enable_fuzzing=False)
    at = as_utc(now)
    values = [
        scheduler.get_card_retrievability(
            Card(card_id=0, state=State.Review, stability=s, last_review=as_utc(last), due=at), at
        )
        for s, last in cards
        if s is not None and last is not None
    ]
    return sum(values) / len(values) if values else None
