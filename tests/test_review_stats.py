"""tracker.reports.review_stats: Anki's rules over literals, and the figures over a real store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tracker.clock import Clock
from tracker.reports import review_stats as rs
from tracker.reports.facts import CardFact, ReviewFact

TODAY = date(2025, 3, 29)
UTC_CLOCK = Clock(tz=ZoneInfo("UTC"), day_starts_at=0)


def review(card: int, day: date, rating: int) -> ReviewFact:
    return ReviewFact(card, rating, day)


def back(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_classify_first_review_same_day_repeats_and_intervals() -> None:
    logs = [
        review(1, back(40), 3),  # new card: learn
        review(1, back(40), 1),  # again the same day: interval under a day
        review(1, back(30), 3),  # 10 days later
        review(1, back(5), 1),  # 25 days later: mature
        review(2, back(1), 4),  # another card's first review
        review(2, TODAY, 2),
    ]
    got = [(r.card, r.kind, r.last_interval, r.counts, r.mature) for r in rs.classify_reviews(logs)]
    assert got == [
        (1, "learn", 0, False, False),
        (1, "same-day", 0, False, False),
        (1, "review", 10, True, False),
        (1, "review", 25, True, True),
        (2, "learn", 0, False, False),
        (2, "review", 1, True, False),
    ]
    with pytest.raises(ValueError, match="not 1-4"):
        list(rs.classify_reviews([review(1, TODAY, 5)]))


def test_true_retention_windows_young_mature_and_button_one_fails() -> None:
    logs = [review(9, back(400), 3)]  # first review of card 9 (never counted)
    for card, (days_ago, rating, interval) in enumerate(
        [
            (0, 1, 3),  # today, young, fail
            (0, 2, 30),  # today, mature, Hard passes
            (1, 3, 5),  # yesterday, young pass
            (6, 4, 21),  # this week, exactly 21 days: mature
            (20, 1, 40),  # this month, mature fail
            (200, 3, 2),  # this year
            (380, 3, 2),  # only all time
            (-1, 3, 2),  # after today (a report for an earlier day): ignored
        ],
        start=1,
    ):
        day = back(days_ago)
        logs += [review(card, day - timedelta(days=interval), 3), review(card, day, rating)]
    windows = rs.true_retention(rs.counted_by_day(rs.classify_reviews(logs)), TODAY)
    counts = {
        name: (w.young_passed, w.young_failed, w.mature_passed, w.mature_failed)
        for name, w in windows.items()
    }
    assert counts == {
        "today": (0, 1, 1, 0),
        "yesterday": (1, 0, 0, 0),
        "week": (1, 1, 2, 0),
        "month": (1, 1, 2, 1),
        "year": (2, 1, 2, 1),
        "all": (3, 1, 2, 1),
    }
    assert list(windows) == [name for name, _, _ in rs.WINDOWS]
    week = windows["week"]
    assert (week.young, week.mature, week.total, week.reviews) == (0.5, 1.0, 0.75, 4)
    assert rs.RetentionCounts().total is None


def _card(card_id: int, due: str, last: str | None, *, reps: int = 1, suspended: bool = False):  # noqa: ANN202
    return CardFact(
        card_id,
        "transformer-1",
        "transformer",
        "question",
        0,
        datetime.fromisoformat(due),
        datetime.fromisoformat(last) if last else None,
        reps if last else 0,
        suspended,
        2.0 if last else None,
    )


def test_future_due_backlog_days_load_and_new_cards_on_learner_days() -> None:
    clock = Clock(tz=ZoneInfo("Europe/Berlin"), day_starts_at=4)
    cards = [
        _card(1, "2025-03-01T10:00+00:00", "2025-02-20T10:00+00:00"),  # overdue: backlog
        _card(2, "2025-03-29T12:00+00:00", "2025-03-25T12:00+00:00"),  # today, 4-day interval
        _card(3, "2025-03-30T01:45+00:00", "2025-03-28T01:45+00:00"),  # 03:45 CEST: still the 29th
        _card(4, "2025-03-30T02:15+00:00", "2025-03-29T02:15+00:00"),  # 04:15 CEST: the 30th
        _card(5, "2025-04-27T12:00+00:00", "2025-03-28T12:00+00:00"),  # the 30th day (the last)
        _card(6, "2025-04-28T12:00+00:00", "2025-03-29T12:00+00:00"),  # beyond the window
        _card(7, "2025-03-29T08:00+00:00", None),  # never reviewed: new, left out
        _card(8, "2025-03-29T08:00+00:00", "2025-03-28T08:00+00:00", suspended=True),
        _card(9, "2025-03-29T18:00+00:00", "2025-03-29T08:00+00:00"),  # a sub-day step: 1 day
    ]
    forecast = rs.future_due(cards, clock=clock, today=TODAY, days=30)
    assert forecast.backlog == 1 and forecast.new_cards == 1
    assert len(forecast.days) == 30 and forecast.days[0] == (TODAY, 3)
    assert forecast.days[1] == (date(2025, 3, 30), 1) and forecast.due_tomorrow == 1
    assert forecast.days[-1] == (date(2025, 4, 27), 1) and forecast.total == 5
    load = 1 / 9 + 1 / 4 + 1 / 2 + 1 / 1 + 1 / 30 + 1 / 30 + 1
    assert forecast.daily_load == pytest.approx(load)
    with pytest.raises(ValueError):
        rs.future_due(cards, clock=clock, today=TODAY, days=0)


def test_due_count_is_what_tracker_due_lists() -> None:
    cards = [
        _card(1, "2025-03-29T10:00+00:00", None),
        _card(2, "2025-03-29T23:00+00:00", "2025-03-20T10:00+00:00"),
        _card(3, "2025-03-29T10:00+00:00", "2025-03-20T10:00+00:00", suspended=True),
    ]
    until = UTC_CLOCK.day_end(TODAY)
    assert rs.due_count(cards, until=until) == 2
    assert rs.due_count(cards, until=datetime(2025, 3, 29, 12, tzinfo=UTC)) == 1


def test_reviews_per_day_fills_gaps() -> None:
    days = rs.review_days(
        [review(1, TODAY, 3), review(1, TODAY, 3), review(2, back(-2), 1), review(3, back(5), 4)]
    )
    assert rs.reviews_per_day(days, start=TODAY, end=back(-3)) == [
        (TODAY, 2),
        (back(-1), 0),
        (back(-2), 1),
        (back(-3), 0),
    ]
    with pytest.raises(ValueError, match="before start"):
        rs.reviews_per_day({}, start=TODAY, end=back(1))


def test_retention_over_time_with_a_weighted_seven_day_average() -> None:
    logs = []
    for card, (days_ago, rating) in enumerate([(9, 1), (3, 3), (3, 3), (3, 1), (0, 1)], start=1):
        day = back(days_ago)
        logs += [review(card, day - timedelta(days=3), 3), review(card, day, rating)]
    counted = rs.counted_by_day(rs.classify_reviews(logs))
    series = rs.retention_over_time(counted, start=back(4), end=TODAY)
    assert [(d.date, d.reviews, d.passed) for d in series] == [
        (back(4), 0, 0),
        (back(3), 3, 2),
        (back(2), 0, 0),
        (back(1), 0, 0),
        (TODAY, 1, 0),
    ]
    assert series[0].retention is None and series[1].retention == pytest.approx(2 / 3)
    # back(4)'s window holds back(9)'s fail (the cards' first reviews on back(6) are learning
    # reviews, left out); TODAY's holds 2 of 4, not the mean of 2/3 and 0.
    assert series[0].average == 0.0
    assert series[-1].average == pytest.approx(2 / 4)
    with pytest.raises(ValueError):
        rs.retention_over_time(rs.counted_by_day([]), start=TODAY, end=back(1))
