"""tracker.review_stats: pure figures over literals; review_summary over a real store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from review_support import pass_lessons

from tracker.clock import Clock
from tracker.review_stats import (
    RetentionPeriod,
    average_retrievability,
    due_forecast,
    overall_retention,
    period_start,
    reviews_per_day,
    true_retention,
)

MON = date(2025, 3, 3)  # a Monday


def test_true_retention_by_day_week_month_and_overall() -> None:
    reviews = [
        (MON, 3),
        (MON, 1),
        (MON + timedelta(days=1), 4),
        (MON + timedelta(days=1), 2),
        (MON + timedelta(days=7), 1),
        (date(2025, 4, 1), 3),
    ]
    by_day = true_retention(reviews, period="day")
    assert [(p.start, p.reviews, p.recalled) for p in by_day] == [
        (MON, 2, 1),
        (MON + timedelta(days=1), 2, 2),
        (MON + timedelta(days=7), 1, 0),
        (date(2025, 4, 1), 1, 1),
    ]
    assert [p.retention for p in by_day] == [0.5, 1.0, 0.0, 1.0]
    by_week = true_retention(reviews, period="week")
    assert [(p.start, p.retention) for p in by_week] == [
        (MON, 0.75),
        (MON + timedelta(days=7), 0.0),
        (date(2025, 3, 31), 1.0),
    ]
    by_month = true_retention(reviews, period="month")
    assert [(p.start, p.reviews, p.recalled) for p in by_month] == [
        (date(2025, 3, 1), 5, 3),
        (date(2025, 4, 1), 1, 1),
    ]
    assert overall_retention(reviews) == pytest.approx(4 / 6)
    assert true_retention(reviews, period="all") == [RetentionPeriod(None, 6, 4)]


def test_true_retention_edges() -> None:
    assert true_retention([]) == [] and overall_retention([]) is None
    assert RetentionPeriod(MON, 0, 0).retention is None
    with pytest.raises(ValueError, match="not 1-4"):
        true_retention([(MON, 5)])
    with pytest.raises(ValueError, match="unknown period"):
        period_start(MON, "year")  # type: ignore[arg-type]
    assert period_start(date(2025, 3, 9), "week") == MON  # Sunday belongs to Monday's week


def test_reviews_per_day_fills_gaps() -> None:
    days = [MON, MON, MON + timedelta(days=2), MON - timedelta(days=5)]
    assert reviews_per_day(days, start=MON, end=MON + timedelta(days=3)) == [
        (MON, 2),
        (MON + timedelta(days=1), 0),
        (MON + timedelta(days=2), 1),
        (MON + timedelta(days=3), 0),
    ]
    assert reviews_per_day([], start=MON, end=MON) == [(MON, 0)]
    with pytest.raises(ValueError, match="before start"):
        reviews_per_day([], start=MON, end=MON - timedelta(days=1))


def test_due_forecast_uses_learner_days_and_folds_overdue_into_today() -> None:
    clock = Clock(tz=ZoneInfo("Europe/Berlin"), day_starts_at=4)
    today = date(2025, 3, 29)

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text)

    dues = [
        at("2025-03-01T10:00+00:00"),  # overdue: today
        at("2025-03-29T12:00+00:00"),  # today
        at("2025-03-30T01:45+00:00"),  # 03:45 CEST on the 30th: still the 29th's learner-day
        at("2025-03-30T02:15+00:00"),  # 04:15 CEST: the 30th
        at("2025-04-27T12:00+00:00"),  # day 30 of the forecast (the last)
        at("2025-04-28T12:00+00:00"),  # beyond 30 days
    ]
    forecast = due_forecast(dues, clock=clock, today=today, days=30)
    assert len(forecast) == 30 and forecast[0] == (today, 3)
    assert forecast[1] == (date(2025, 3, 30), 1)
    assert forecast[-1] == (date(2025, 4, 27), 1)
    assert sum(n for _, n in forecast) == 5
    with pytest.raises(ValueError):
        due_forecast(dues, clock=clock, today=today, days=0)


def test_average_retrievability() -> None:
    now = datetime(2025, 3, 10, 9, tzinfo=UTC)
    fresh = (10.0, now)  # just reviewed: recall certain
    due = (10.0, now - timedelta(days=10))  # ~desired retention
    never = (None, None)  # new card: left out
    assert average_retrievability([fresh], now=now) == pytest.approx(1.0)
    r_due = average_retrievability([due], now=now)
    assert 0.88 < r_due < 0.92
    assert average_retrievability([fresh, due, never], now=now) == pytest.approx((1 + r_due) / 2)
    assert average_retrievability([never], now=now) is None
    assert average_retrievability([], now=now) is None
    # R(t = S) is 0.9 whatever the decay; further out, another decay gives another figure
    late = (10.0, now - timedelta(days=40))
    import fsrs

    params = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    params[20] = 0.6
    r_late = average_retrievability([late], now=now)
    assert average_retrievability([late], now=now, parameters=params) < r_late < r_due


def test_review_summary_for_a_learner(store, cli_run, monkeypatch) -> None:  # noqa: ANN001
    from tracker.reviews import review_summary

    monkeypatch.setenv("TRACKER_NOW", "2025-03-01T09:00")
    pass_lessons(store, ("transformer-1", "2025-03-01T09:00"))
    assert cli_run("review", "1", "--rating", "good").exit_code == 0
    assert cli_run("review", "2", "--rating", "again").exit_code == 0
    now = datetime(2025, 3, 1, 10, tzinfo=UTC)
    with store.read() as session:
        summary = review_summary(
            session, learner_id=store.learner_id, now=now, settings=store.settings
        )
    assert summary["due_today"] == 1
    assert summary["true_retention"] == 0.5
    assert summary["reviews_per_day"][-1] == {"date": date(2025, 3, 1), "reviews": 2}
    assert len(summary["reviews_per_day"]) == 30
    assert summary["forecast"][0] == {"date": date(2025, 3, 1), "due": 1}
    assert sum(f["due"] for f in summary["forecast"]) == 3
    assert 0.9 < summary["average_retrievability"] <= 1.0
