"""The report as a typed document: the use case that builds it, and its JSON form.

``build_report`` is what `tracker report` (every format), the journal post
and a future scheduler job call: it reads the facts once, computes the
indicators and review statistics for one learner-day and returns a
``ReportDocument``. Renderers (``tracker.render``) turn it into bytes and
hold no rule; ``as_dict`` is the `report --format json` shape of
ARCHITECTURE.md, with more keys beside the promised ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from tracker.clock import Clock
from tracker.errors import UsageError
from tracker.reports import indicators as ind
from tracker.reports import review_stats as rs
from tracker.reports.data import (
    ReportData,
    load_cards,
    load_lessons,
    load_report_data,
    load_review_log,
    reading,
)
from tracker.reports.facts import (
    SESSION_KINDS,
    CardFact,
    LessonInfo,
    ReviewLogFact,
    SessionFact,
)

if TYPE_CHECKING:
    from tracker.store import Store

LANGS = ("en", "ko")
CALENDAR_DAYS = 365
REVIEWS_PER_DAY_DAYS = 30
RETENTION_DAYS = 90
FORECAST_DAYS = 30


class ReportDateError(UsageError):
    """A --date the report cannot be made for (in the future)."""


@dataclass(frozen=True)
class DayActivity:
    """One learner-day of the study calendar."""

    date: date
    lessons: tuple[str, ...]  # lesson (or concept) of each study session, in order
    reviews: int
    checked_in: bool

    @property
    def sessions(self) -> int:
        return len(self.lessons)

    @property
    def value(self) -> int:
        """What the heatmap colours: sessions and reviews alike."""
        return len(self.lessons) + self.reviews


@dataclass(frozen=True)
class ReviewReport:
    due_today: int | None  # None for a past --date
    retention: dict[str, rs.RetentionCounts]  # rs.WINDOWS order
    forecast: rs.Forecast | None  # None for a past --date: cards are known as they are now
    reviews_per_day: tuple[tuple[date, int], ...]
    retention_over_time: tuple[rs.RetentionDay, ...]
    total_reviews: int


@dataclass(frozen=True)
class ReportDocument:
    generated_at: datetime
    date: date  # the learner-day the report is for
    lang: str
    timezone: str
    sessions_per_week: int
    journey_started: date | None
    sessions_completed: int
    streak: ind.Streak
    depth_level: ind.DepthLevel
    categories: tuple[ind.CategoryProgress, ...]
    velocity: ind.Velocity
    milestones: ind.Milestones
    reviews: ReviewReport
    calendar: tuple[DayActivity, ...]  # CALENDAR_DAYS learner-days ending with ``date``
    data: ReportData  # the facts, for the CSV and the exports

    def as_dict(self) -> dict[str, Any]:
        from tracker.render.messages import messages

        t = messages(self.lang)
        reviews = self.reviews
        forecast = reviews.forecast
        return {
            "generated_at": self.generated_at.isoformat(),
            "date": self.date.isoformat(),
            "lang": self.lang,
            "timezone": self.timezone,
            "journey_started": _iso(self.journey_started),
            "sessions_completed": self.sessions_completed,
            "streak_days": self.streak.alive,
            "streak": {
                "current": self.streak.alive,
                "best": self.streak.best,
                "active_today": self.streak.active_today,
                "last_active": _iso(self.streak.last_active),
            },
            "current_depth_level": {
                "depth": self.depth_level.depth,
                "label": t.level(self.depth_level.level),
                "level": self.depth_level.level,
            },
            "categories": [
                {
                    "id": c.id,
                    "name": c.name,
                    "total": c.total,
                    "completed": len(c.completed),
                    "in_progress": len(c.in_progress),
                    "percent": c.percent,
                    "completed_concepts": [_standing(s) for s in c.completed],
                    "in_progress_concepts": [_standing(s) for s in c.in_progress],
                }
                for c in self.categories
            ],
            "velocity": {
                "this_week": self.velocity.this_week,
                "this_month": self.velocity.this_month,
                "trend": self.velocity.trend,
                "last_four_weeks": self.velocity.last_four_weeks,
                "previous_four_weeks": self.velocity.previous_four_weeks,
            },
            "milestones": {
                "achieved": [
                    {"id": m.id, "name": t.milestone(m), "achieved_on": _iso(m.achieved_on)}
                    for m in self.milestones.achieved
                ],
                "next": [
                    {"id": m.id, "name": t.milestone(m), "remaining": m.remaining}
                    for m in self.milestones.next
                ],
                "sessions_this_week": self.milestones.sessions_this_week,
            },
            "reviews": {
                "due_today": reviews.due_today,
                "true_retention": reviews.retention["month"].total,
                "true_retention_windows": {
                    name: _retention(counts) for name, counts in reviews.retention.items()
                },
                "forecast": None
                if forecast is None
                else {
                    "backlog": forecast.backlog,
                    "due_tomorrow": forecast.due_tomorrow,
                    "daily_load": round(forecast.daily_load, 2),
                    "new_cards": forecast.new_cards,
                    "days": [{"date": d.isoformat(), "due": n} for d, n in forecast.days],
                },
                "reviews_per_day": [
                    {"date": d.isoformat(), "reviews": n} for d, n in reviews.reviews_per_day
                ],
                "retention_over_time": [
                    {
                        "date": r.date.isoformat(),
                        "reviews": r.reviews,
                        "retention": r.retention,
                        "average_7d": r.average,
                    }
                    for r in reviews.retention_over_time
                ],
                "total_reviews": reviews.total_reviews,
            },
            "study_calendar": [
                {
                    "date": day.date.isoformat(),
                    "sessions": day.sessions,
                    "reviews": day.reviews,
                    "checked_in": day.checked_in,
                }
                for day in self.calendar
                if day.value or day.checked_in
            ],
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _standing(s: ind.ConceptStanding) -> dict[str, Any]:
    return {"id": s.id, "title": s.title, "depth": s.depth, "target_depth": s.target_depth}


def _retention(counts: rs.RetentionCounts) -> dict[str, Any]:
    return {
        "young": counts.young,
        "mature": counts.mature,
        "total": counts.total,
        "reviews": counts.reviews,
        "young_passed": counts.young_passed,
        "young_failed": counts.young_failed,
        "mature_passed": counts.mature_passed,
        "mature_failed": counts.mature_failed,
    }


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UsageError(f"unknown language {lang!r}: use {' or '.join(LANGS)}")
    return lang


def report_day(clock: Clock, now: datetime, day: date | None) -> date:
    """The learner-day a report is for: ``day``, or today; never after today."""
    today = clock.local_day(now)
    if day is None:
        return today
    if day > today:
        raise ReportDateError(
            f"--date {day.isoformat()} is after today ({today.isoformat()}): "
            "a report covers what has happened"
        )
    return day


def study_calendar(
    data: ReportData, reviews: Mapping[date, int], *, end: date, days: int = CALENDAR_DAYS
) -> list[DayActivity]:
    """``days`` learner-days ending with ``end`` (date arithmetic, not seconds)."""
    start = end - timedelta(days=days - 1)
    lessons: dict[date, list[str]] = {}
    for s in data.sessions:
        if s.kind in SESSION_KINDS and start <= s.local_date <= end:
            lessons.setdefault(s.local_date, []).append(s.lesson or s.concept)
    checkins = {d for d in data.checkins if start <= d <= end}
    return [
        DayActivity(day, tuple(lessons.get(day, ())), reviews.get(day, 0), day in checkins)
        for day in (start + timedelta(days=i) for i in range(days))
    ]


def active_days(data: ReportData, reviews: Mapping[date, int]) -> set[date]:
    """Learner-days with a study session, a review or a check-in."""
    days = {s.local_date for s in data.sessions if s.kind in SESSION_KINDS}
    days.update(reviews)
    days.update(data.checkins)
    return days


def compose_report(
    data: ReportData,
    *,
    day: date,
    now: datetime,
    clock: Clock,
    lang: str,
    sessions_per_week: int,
) -> ReportDocument:
    """The report for learner-day ``day`` from facts already read (pure but for fsrs)."""
    sessions: list[SessionFact] = ind.counted_sessions(data.sessions)
    depths = ind.concept_depths(data.progress)
    counted = rs.counted_by_day(rs.classify_reviews(data.reviews))
    per_day = rs.review_days(data.reviews)
    today = clock.local_day(now)
    is_today = day == today
    forecast = (
        rs.future_due(data.cards, clock=clock, today=day, days=FORECAST_DAYS) if is_today else None
    )
    until = clock.day_end(day)
    reviews = ReviewReport(
        due_today=rs.due_count(data.cards, until=until) if is_today else None,
        retention=rs.true_retention(counted, day),
        forecast=forecast,
        reviews_per_day=tuple(
            rs.reviews_per_day(
                per_day,
                start=day - timedelta(days=REVIEWS_PER_DAY_DAYS - 1),
                end=day,
            )
        ),
        retention_over_time=tuple(
            rs.retention_over_time(counted, start=day - timedelta(days=RETENTION_DAYS - 1), end=day)
        ),
        total_reviews=len(data.reviews),
    )
    active = active_days(data, per_day)
    return ReportDocument(
        generated_at=now,
        date=day,
        lang=lang,
        timezone=clock.tz.key,
        sessions_per_week=sessions_per_week,
        journey_started=ind.journey_start(sessions),
        sessions_completed=len(sessions),
        streak=ind.streak(active, day),
        depth_level=ind.depth_level(depths),
        categories=tuple(ind.category_progress(data.categories, data.concepts, depths)),
        velocity=ind.velocity(ind.first_studied(sessions), day),
        milestones=ind.milestones(
            sessions=sessions,
            progress=data.progress,
            concepts=data.concepts,
            active_days=active,
            sessions_per_week=sessions_per_week,
            today=day,
        ),
        reviews=reviews,
        calendar=tuple(study_calendar(data, per_day, end=day)),
        data=data,
    )


def build_report(
    source: Store | Session,
    *,
    learner_id: int,
    now: datetime,
    clock: Clock,
    lang: str = "en",
    day: date | None = None,
    sessions_per_week: int = 3,
) -> ReportDocument:
    """The report of ``learner_id`` for learner-day ``day`` (default: today), from one read."""
    check_lang(lang)
    day = report_day(clock, now, day)
    with reading(source) as session:
        data = load_report_data(session, learner_id=learner_id, clock=clock, through=day)
    return compose_report(
        data, day=day, now=now, clock=clock, lang=lang, sessions_per_week=sessions_per_week
    )


@dataclass(frozen=True)
class ReviewLogDocument:
    """Every rating up to a learner-day, with what each card is (the review-log CSV)."""

    date: date
    reviews: tuple[ReviewLogFact, ...]  # in time order
    cards: tuple[CardFact, ...]
    lessons: tuple[LessonInfo, ...]


def build_review_log(
    source: Store | Session,
    *,
    learner_id: int,
    now: datetime,
    clock: Clock,
    day: date | None = None,
) -> ReviewLogDocument:
    """The review log up to the end of learner-day ``day`` (default today)."""
    day = report_day(clock, now, day)
    with reading(source) as session:
        return ReviewLogDocument(
            date=day,
            reviews=load_review_log(session, learner_id=learner_id, through=day),
            cards=load_cards(session, learner_id=learner_id),
            lessons=load_lessons(session),
        )
