"""The review ledger: rating a card, and the one audited way to take a rating back.

``review_logs`` is the ledger every figure comes from (the schedule replays
from it, retention and the optimizer read it). Its rules:

- **one rating per card per learner-day counts.** A question card rated again
  the same day replaces that day's rating (a correction). A code card follows
  Anki's first-review-of-the-day rule: the day's first review submission rates
  it (a pass Good, a fail Again); a pass later that day upgrades an Again to
  Hard, as README promises; anything else leaves the day's rating as it is.
- **taking a rating back** (that replacement, or an undo) goes through
  ``retract`` only: the card's scheduling columns are restored from the
  snapshot the rating stored (``card_before``), the log entry leaves the
  ledger, and the whole entry is kept in ``retracted_reviews`` with the reason.
  Removing the entry, rather than adding an "undo" entry, keeps every reader
  of the ledger right without a filter; the audit table keeps what left it.
- the ledger only moves forward in time: a rating dated before the card's last
  change is refused (a back-dated ``TRACKER_NOW``), except for a review
  submission whose card another process changed while it was being validated.

Everything here runs inside the caller's write transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import hints
from tracker.clock import Clock
from tracker.config import Settings
from tracker.db.models import RetractedReview, ReviewCard, ReviewLog
from tracker.due import due_until
from tracker.errors import CardNotFound, CardNotRatable, UsageError
from tracker.reviews import RATINGS, STATES, parse_rating, rating_name

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
REVIEW_STATE = 2
_SCHEDULE = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")


class NothingToUndo(UsageError):
    """No rating of this learner can be taken back."""

    exit_code = 1


@dataclass(frozen=True)
class RatingResult:
    """What one rating did: the card's next due date, and how the day's rating changed."""

    card_id: int
    rating: str
    due: datetime
    previous_due: datetime
    state: str
    early: bool
    log_id: int | None
    local_date: date
    due_date: date  # the learner-day the card is due next
    replaced: str | None = None  # the day's earlier rating this one replaced
    kept: bool = False  # the day's rating stands (a later try that day does not count)

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": self.card_id,
            "rating": self.rating,
            "due": self.due,
            "due_date": self.due_date,
            "previous_due": self.previous_due,
            "state": self.state,
            "early": self.early,
            "date": self.local_date,
            "replaced": self.replaced,
            "kept": self.kept,
        }


# --- snapshots --------------------------------------------------------------------------------


def snapshot(row: ReviewCard) -> str:
    """The card's scheduling columns as JSON (what a retraction restores)."""
    values = {}
    for name in _SCHEDULE:
        value = getattr(row, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return json.dumps(values)


def _restore(row: ReviewCard, saved: str) -> None:
    values = json.loads(saved)
    for name in _SCHEDULE:
        value = values[name]
        if name in ("due", "last_review") and value is not None:
            value = datetime.fromisoformat(value)
        setattr(row, name, value)


def replay_card(session: Session, row: ReviewCard, *, settings: Settings) -> None:
    """Rebuild a card's cached schedule from its ledger (for entries made before snapshots)."""
    from tracker.scheduling import apply_card, scheduler_for
    from tracker.scheduling import review as fsrs_review

    log = ReviewLog.__table__.c
    ratings = session.execute(
        select(log.rating, log.reviewed_at)
        .where(log.card_id == row.id)
        .order_by(log.reviewed_at, log.id)
    ).all()
    scheduler = scheduler_for(session, learner_id=row.learner_id, settings=settings)
    from fsrs import Card, State

    card = Card(card_id=row.id, due=row.created_at)
    lapses = 0
    for reps, (rating, reviewed_at) in enumerate(ratings):
        if card.state == State.Review and rating == AGAIN:
            lapses += 1
        card, _ = fsrs_review(scheduler, card, rating, now=reviewed_at, reps=reps)
    apply_card(row, card)
    row.reps, row.lapses = len(ratings), lapses


# --- the ledger's operations ------------------------------------------------------------------


def _locked_card(session: Session, *, learner_id: int, card_id: int) -> ReviewCard | None:
    return session.scalars(
        select(ReviewCard)
        .where(ReviewCard.id == card_id, ReviewCard.learner_id == learner_id)
        .with_for_update()
    ).one_or_none()


def _latest_log(session: Session, card_id: int) -> ReviewLog | None:
    return session.scalars(
        select(ReviewLog)
        .where(ReviewLog.card_id == card_id)
        .order_by(ReviewLog.reviewed_at.desc(), ReviewLog.id.desc())
        .limit(1)
    ).first()


def _todays_log(session: Session, card_id: int, day: date) -> ReviewLog | None:
    latest = _latest_log(session, card_id)
    return latest if latest is not None and latest.local_date == day else None


def retract(
    session: Session,
    row: ReviewCard,
    log: ReviewLog,
    *,
    reason: str,
    now: datetime,
    settings: Settings,
) -> RetractedReview:
    """Take ``log`` (the card's latest rating) out of the ledger, keeping it for audit."""
    latest = _latest_log(session, row.id)
    if latest is None or latest.id != log.id:
        raise UsageError(f"only card {row.id}'s latest rating can be taken back")
    kept = RetractedReview(
        log_id=log.id,
        card_id=log.card_id,
        learner_id=log.learner_id,
        rating=log.rating,
        reviewed_at=log.reviewed_at,
        local_date=log.local_date,
        reason=reason,
        retracted_at=now,
        row_json=json.dumps(
            {
                "id": log.id,
                "rating": log.rating,
                "reviewed_at": log.reviewed_at.isoformat(),
                "local_date": log.local_date.isoformat(),
                "review_duration_ms": log.review_duration_ms,
                "submission_id": log.submission_id,
                "card_before": log.card_before,
            }
        ),
    )
    session.add(kept)
    before = log.card_before
    session.delete(log)
    session.flush()
    if before is not None:
        _restore(row, before)
    else:  # rated before snapshots existed (schema 0003 and older): replay what is left
        replay_card(session, row, settings=settings)
    session.flush()
    return kept


def _apply(
    session: Session,
    row: ReviewCard,
    *,
    rating: int,
    now: datetime,
    settings: Settings,
    duration_ms: int | None,
    submission_id: int | None,
    replaced: str | None = None,
) -> RatingResult:
    """Rate the card through fsrs: its new schedule and its log entry (with the snapshot)."""
    from tracker.scheduling import apply_card, card_from_row, review, scheduler_for

    clock = settings.clock
    scheduler = scheduler_for(session, learner_id=row.learner_id, settings=settings)
    previous_due, previous_state = row.due, row.state
    before = snapshot(row)
    card, _ = review(
        scheduler, card_from_row(row), rating, now=now, reps=row.reps, duration_ms=duration_ms
    )
    apply_card(row, card)
    row.reps += 1
    if previous_state == REVIEW_STATE and rating == AGAIN:
        row.lapses += 1
    local_date = clock.local_day(now)
    log = ReviewLog(
        card_id=row.id,
        learner_id=row.learner_id,
        rating=rating,
        reviewed_at=card.last_review,
        local_date=local_date,
        review_duration_ms=duration_ms,
        submission_id=submission_id,
        card_before=before,
    )
    session.add(log)
    session.flush()
    return RatingResult(
        card_id=row.id,
        rating=rating_name(rating),
        due=row.due,
        previous_due=previous_due,
        state=STATES[row.state],
        early=previous_due >= due_until(clock, now),
        log_id=log.id,
        local_date=local_date,
        due_date=clock.local_day(row.due),
        replaced=replaced,
    )


def _not_before_last_change(row: ReviewCard, now: datetime, clock: Clock) -> None:
    latest = max(row.created_at, row.last_review or row.created_at)
    if now < latest:
        raise UsageError(
            f"card {row.id} was last changed at {latest.astimezone(clock.tz):%Y-%m-%d %H:%M}; "
            "a rating cannot be dated before that (check TRACKER_NOW)"
        )


def rate_card(
    session: Session,
    *,
    learner_id: int,
    card_id: int,
    rating: int | str,
    now: datetime,
    settings: Settings,
    duration_ms: int | None = None,
) -> RatingResult:
    """Rate a question card; rating it again the same learner-day replaces the day's rating."""
    value = parse_rating(rating)
    row = _locked_card(session, learner_id=learner_id, card_id=card_id)
    if row is None:
        raise CardNotFound(f"no review card {card_id}; see `tracker due`")
    if row.kind == "code":
        raise CardNotRatable(
            f"card {card_id} is a code card: review it with {hints.code_review(row.lesson_id)}"
        )
    _not_before_last_change(row, now, settings.clock)
    today = _todays_log(session, row.id, settings.clock.local_day(now))
    replaced = None
    if today is not None:
        replaced = rating_name(today.rating)
        retract(session, row, today, reason="replaced", now=now, settings=settings)
    return _apply(
        session,
        row,
        rating=value,
        now=now,
        settings=settings,
        duration_ms=duration_ms,
        submission_id=None,
        replaced=replaced,
    )


def rate_code_submission(
    session: Session,
    *,
    learner_id: int,
    lesson_id: str,
    passed: bool,
    now: datetime,
    settings: Settings,
    submission_id: int | None,
) -> RatingResult | None:
    """Rate the learner's code card from a review submission (None: no code card).

    The day's first review submission rates it; a pass after a failed try that
    day upgrades Again to Hard; any other later try leaves the day's rating.
    """
    row = session.scalars(
        select(ReviewCard)
        .where(
            ReviewCard.learner_id == learner_id,
            ReviewCard.lesson_id == lesson_id,
            ReviewCard.kind == "code",
        )
        .with_for_update()
    ).one_or_none()
    if row is None:
        return None
    clock = settings.clock
    # The clock was checked against this card before the submission was validated
    # (usecases.submit.check_review_allowed); a later change is another process's.
    latest = max(row.created_at, row.last_review or row.created_at)
    now = max(now, latest)
    today = _todays_log(session, row.id, clock.local_day(now))
    if today is None:
        return _apply(
            session,
            row,
            rating=GOOD if passed else AGAIN,
            now=now,
            settings=settings,
            duration_ms=None,
            submission_id=submission_id,
        )
    if today.rating == AGAIN and passed:
        retract(session, row, today, reason="replaced", now=now, settings=settings)
        return _apply(
            session,
            row,
            rating=HARD,
            now=now,
            settings=settings,
            duration_ms=None,
            submission_id=submission_id,
            replaced=rating_name(AGAIN),
        )
    return RatingResult(
        card_id=row.id,
        rating=rating_name(today.rating),
        due=row.due,
        previous_due=row.due,
        state=STATES[row.state],
        early=False,
        log_id=None,
        local_date=today.local_date,
        due_date=clock.local_day(row.due),
        kept=True,
    )


@dataclass(frozen=True)
class UndoResult:
    card_id: int
    rating: str
    local_date: date
    due_date: date  # the card's due day again, as it was before the rating

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": self.card_id,
            "undone": self.rating,
            "date": self.local_date,
            "due_date": self.due_date,
        }


def undo_last(
    session: Session,
    *,
    learner_id: int,
    now: datetime,
    settings: Settings,
    card_id: int | None = None,
) -> UndoResult:
    """Take back the learner's last rating made by hand (of ``card_id`` when given)."""
    query = select(ReviewLog).where(
        ReviewLog.learner_id == learner_id, ReviewLog.submission_id.is_(None)
    )
    if card_id is not None:
        query = query.where(ReviewLog.card_id == card_id)
    log = session.scalars(
        query.order_by(ReviewLog.reviewed_at.desc(), ReviewLog.id.desc()).limit(1)
    ).first()
    if log is None:
        raise NothingToUndo("nothing to undo: no rating made with `tracker review` yet")
    row = _locked_card(session, learner_id=learner_id, card_id=log.card_id)
    assert row is not None  # the log's card is the learner's
    latest = _latest_log(session, row.id)
    if latest is not None and latest.id != log.id:
        raise NothingToUndo(
            f"card {row.id} was reviewed again after that rating; only its latest can be undone"
        )
    rating, day = rating_name(log.rating), log.local_date
    retract(session, row, log, reason="undo", now=now, settings=settings)
    return UndoResult(row.id, rating, day, settings.clock.local_day(row.due))


def preview_intervals(
    session: Session, *, row: ReviewCard, now: datetime, settings: Settings
) -> dict[str, timedelta]:
    """What each rating would make the next interval, as Anki shows on its buttons.

    The same seeded fuzz as the real rating, so the preview is exactly what
    the chosen rating will give.
    """
    from tracker.scheduling import card_from_row, review, scheduler_for

    scheduler = scheduler_for(session, learner_id=row.learner_id, settings=settings)
    intervals = {}
    for value, name in enumerate(RATINGS, start=1):
        card, _ = review(scheduler, card_from_row(row), value, now=now, reps=row.reps)
        intervals[name] = card.due - now
    return intervals


# --- reading it -------------------------------------------------------------------------------


def code_card_latest(
    session: Session, *, learner_id: int, lesson_id: str
) -> tuple[int, datetime] | None:
    """(card id, when it last changed) of the learner's code card for a lesson, if any."""
    card = ReviewCard.__table__.c
    row = session.execute(
        select(card.id, card.created_at, card.last_review).where(
            card.learner_id == learner_id, card.lesson_id == lesson_id, card.kind == "code"
        )
    ).first()
    if row is None:
        return None
    card_id, created_at, last_review = row
    return card_id, max(created_at, last_review or created_at)


def review_of_submission(
    session: Session, *, submission_id: int, clock: Clock
) -> dict[str, Any] | None:
    """The code-card rating a review submission made, as ``RatingResult.as_dict`` shows it."""
    log, card = ReviewLog.__table__.c, ReviewCard.__table__.c
    row = session.execute(
        select(log.card_id, log.rating, log.local_date, card.due, card.state)
        .join_from(ReviewLog.__table__, ReviewCard.__table__, card.id == log.card_id)
        .where(log.submission_id == submission_id)
    ).first()
    if row is None:
        return None
    card_id, rating, local_date, due, state = row
    return {
        "card": card_id,
        "rating": rating_name(rating),
        "due": due,
        "due_date": clock.local_day(due),
        "state": STATES.get(state, str(state)),
        "date": local_date,
    }
