"""Review statistics computed the way Anki computes them, so Anki users read the same numbers.

Pure functions over plain values (``tracker.reports.facts``); the loader reads
the ledger and the cards. The rules follow Anki's Rust statistics
(rslib/src/stats/graphs/retention.rs and future_due.rs), on learner-days:

- **True retention** (``calculate_true_retention``) counts a review only when
  the card was in review state or its interval was at least a day. The ledger
  keeps ratings, not the card's state at each rating, so that reads here as:
  a card's first review (it was new: Anki logs it as learning with no
  interval) and any further review of a card on the same learner-day (an
  interval under a day) are left out; every other review counts. Again is a
  fail, Hard, Good and Easy pass. Young and mature split at an interval of 21
  days; the interval is the learner-days since the card's previous review
  (Anki uses the interval the card was scheduled with: the same figure for a
  review done on its due day, a larger one for a late review). Windows are
  whole learner-days ending with ``today``: today, yesterday, the last 7, 30
  and 365 days, and all time.
- **Future due**: cards already reviewed at least once and not suspended, per
  learner-day for the next ``days`` days; cards due before today are the
  backlog; the daily load is the sum of 1 / interval (at least a day) over
  those cards, the reviews per day the collection costs in the long run.
  Cards never reviewed are counted apart as new, as Anki does.
- **Reviews per day** counts every rating; **retention over time** is the
  daily true retention with a trailing 7-day average weighted by reviews
  (passes over reviews in the window, so a day with one review does not
  swing the line).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from tracker.clock import Clock
from tracker.reports.facts import CardFact, ReviewFact

AGAIN = 1
MATURE_DAYS = 21
LEARN, SAME_DAY, REVIEW = "learn", "same-day", "review"
# (name, first and last day back from today; None: no limit)
WINDOWS: tuple[tuple[str, int, int | None], ...] = (
    ("today", 0, 0),
    ("yesterday", 1, 1),
    ("week", 0, 6),
    ("month", 0, 29),
    ("year", 0, 364),
    ("all", 0, None),
)


class ClassifiedReview(NamedTuple):
    card: int
    local_date: date
    rating: int
    kind: str  # learn | same-day | review
    last_interval: int  # learner-days since the card's previous review (0 for the first)

    @property
    def counts(self) -> bool:
        """Counted for true retention (Anki: review state or an interval of a day or more)."""
        return self.kind == REVIEW

    @property
    def mature(self) -> bool:
        return self.last_interval >= MATURE_DAYS

    @property
    def passed(self) -> bool:
        return self.rating != AGAIN


def classify_reviews(reviews: Iterable[ReviewFact]) -> Iterator[ClassifiedReview]:
    """Each rating with its kind and the interval before it, one at a time.

    ``reviews`` must be in card order, each card's ratings in time order (the
    loader's ORDER BY): sorting 100,000 ratings again here would cost more
    than classifying them.
    """
    previous_card: int | None = None
    previous_day: date | None = None
    for card, rating, day in reviews:
        if rating not in (1, 2, 3, 4):
            raise ValueError(f"rating {rating!r} is not 1-4")
        if card != previous_card or previous_day is None:
            yield ClassifiedReview(card, day, rating, LEARN, 0)
        elif day == previous_day:
            yield ClassifiedReview(card, day, rating, SAME_DAY, 0)
        else:
            yield ClassifiedReview(card, day, rating, REVIEW, (day - previous_day).days)
        previous_card, previous_day = card, day


Counted = Counter[tuple[date, bool, bool]]  # (learner-day, mature, passed) -> reviews


def counted_by_day(reviews: Iterable[ClassifiedReview]) -> Counted:
    """Reviews that count for true retention, per learner-day, maturity and outcome.

    The true-retention windows and the retention line both start from this one
    pass over the ledger.
    """
    buckets: Counter[tuple[date, bool, bool]] = Counter()
    for _card, day, rating, kind, interval in reviews:
        if kind == REVIEW:
            buckets[(day, interval >= MATURE_DAYS, rating != AGAIN)] += 1
    return buckets


@dataclass
class RetentionCounts:
    young_passed: int = 0
    young_failed: int = 0
    mature_passed: int = 0
    mature_failed: int = 0

    def add(self, *, mature: bool, passed: bool, n: int = 1) -> None:
        if mature:
            if passed:
                self.mature_passed += n
            else:
                self.mature_failed += n
        elif passed:
            self.young_passed += n
        else:
            self.young_failed += n

    @property
    def reviews(self) -> int:
        return self.young_passed + self.young_failed + self.mature_passed + self.mature_failed

    @property
    def young(self) -> float | None:
        return _share(self.young_passed, self.young_passed + self.young_failed)

    @property
    def mature(self) -> float | None:
        return _share(self.mature_passed, self.mature_passed + self.mature_failed)

    @property
    def total(self) -> float | None:
        return _share(self.young_passed + self.mature_passed, self.reviews)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def true_retention(counted: Counted, today: date) -> dict[str, RetentionCounts]:
    """Young / mature passes and fails of counted reviews, per window (see WINDOWS)."""
    windows = {name: RetentionCounts() for name, _, _ in WINDOWS}
    for (day, mature, passed), n in counted.items():
        back = (today - day).days
        if back < 0:
            continue
        for name, first, last in WINDOWS:
            if first <= back and (last is None or back <= last):
                windows[name].add(mature=mature, passed=passed, n=n)
    return windows


@dataclass(frozen=True)
class Forecast:
    backlog: int  # reviewed cards due before today
    days: tuple[tuple[date, int], ...]  # today first
    daily_load: float  # sum of 1 / interval in days
    new_cards: int  # never reviewed: left out, as in Anki

    @property
    def due_tomorrow(self) -> int:
        return self.days[1][1] if len(self.days) > 1 else 0

    @property
    def total(self) -> int:
        return sum(n for _, n in self.days)


def future_due(cards: Iterable[CardFact], *, clock: Clock, today: date, days: int = 30) -> Forecast:
    """Reviews due on each of ``days`` learner-days from ``today``, the backlog and the load."""
    if days < 1:
        raise ValueError("days must be at least 1")
    counts: Counter[int] = Counter()
    backlog = new = 0
    load = 0.0
    for card in cards:
        if card.suspended:
            continue
        if card.last_review is None or card.reps == 0:
            new += 1
            continue
        interval = (card.due - card.last_review).total_seconds() / 86400
        load += 1 / max(1.0, interval)
        offset = (clock.local_day(card.due) - today).days
        if offset < 0:
            backlog += 1
        elif offset < days:
            counts[offset] += 1
    return Forecast(
        backlog=backlog,
        days=tuple((today + timedelta(days=i), counts[i]) for i in range(days)),
        daily_load=load,
        new_cards=new,
    )


def due_count(cards: Iterable[CardFact], *, until: datetime) -> int:
    """Cards `tracker due` lists before ``until`` (new ones included, suspended not)."""
    return sum(1 for c in cards if not c.suspended and c.due < until)


def reviews_per_day(
    counts: Mapping[date, int], *, start: date, end: date
) -> list[tuple[date, int]]:
    """Ratings on each learner-day from ``start`` to ``end`` inclusive, zeros included.

    ``counts`` is ratings per learner-day (``review_days``), counted once per report.
    """
    if end < start:
        raise ValueError("end is before start")
    span = (end - start).days + 1
    days = (start + timedelta(days=i) for i in range(span))
    return [(day, counts.get(day, 0)) for day in days]


def review_days(reviews: Iterable[ReviewFact]) -> Counter[date]:
    """Ratings per learner-day."""
    return Counter(day for _card, _rating, day in reviews)


class RetentionDay(NamedTuple):
    date: date
    reviews: int  # counted reviews that day
    passed: int
    average: float | None  # passes / reviews over the trailing window

    @property
    def retention(self) -> float | None:
        return _share(self.passed, self.reviews)


def retention_over_time(
    counted: Counted, *, start: date, end: date, window: int = 7
) -> list[RetentionDay]:
    """Daily true retention from ``start`` to ``end`` and its trailing ``window``-day average."""
    if end < start:
        raise ValueError("end is before start")
    totals: Counter[date] = Counter()
    passes: Counter[date] = Counter()
    for (day, _mature, passed), n in counted.items():
        totals[day] += n
        if passed:
            passes[day] += n
    result = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        span = [day - timedelta(days=k) for k in range(window)]
        in_window = sum(totals[d] for d in span)
        average = sum(passes[d] for d in span) / in_window if in_window else None
        result.append(RetentionDay(day, totals[day], passes[day], average))
    return result
