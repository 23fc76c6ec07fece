"""Reviews: what is due, and rating a card (one transaction: card state and log).

Listing what is due is plain SQL over ``ix_review_cards_learner_due`` and
never imports fsrs, so ``tracker due`` stays as quick as the other daily
commands. Rating goes through ``tracker.scheduling`` (fsrs), imported inside
the functions that rate.

Question cards are rated by the learner (``tracker review``); a code card is
rated by a review submission (``tracker submit LESSON FILE --review``) through
``rate_code_submission``: a pass on the first try is Good, a pass after a
failed try the same learner-day Hard, a failure Again.

"Due" means due before the end of the learner's current day (timezone and
day boundary from the config), so a morning session sees everything that
falls due today. Rating a card that is not due today is allowed; the result
says it was early.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.db.models import Lesson, ReviewCard, ReviewLog
from tracker.due import due_condition, due_until
from tracker.errors import CardNotFound, CardNotRatable, InvalidRating, UsageError

RATINGS = ("again", "hard", "good", "easy")  # position + 1 is the fsrs.Rating value
STATES = {1: "learning", 2: "review", 3: "relearning"}  # fsrs.State values
REVIEW_STATE, AGAIN, HARD, GOOD = 2, 1, 2, 3


def parse_rating(value: str | int) -> int:
    """1-4 or again/hard/good/easy (any case) as the fsrs rating value."""
    text = str(value).strip().lower()
    if text in RATINGS:
        return RATINGS.index(text) + 1
    if text in {"1", "2", "3", "4"}:
        return int(text)
    raise InvalidRating(f"invalid rating {str(value)!r}: use 1-4 or again, hard, good, easy")


def rating_name(rating: int) -> str:
    return RATINGS[rating - 1]


@dataclass(frozen=True)
class DueCard:
    card: int
    lesson: str
    concept: str
    depth: int
    kind: str
    state: str
    due: datetime
    prompt: str
    answer: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": self.card,
            "concept": self.concept,
            "depth": self.depth,
            "prompt": self.prompt,
            "due": self.due,
            "lesson": self.lesson,
            "kind": self.kind,
            "state": self.state,
        }


def _question(
    cache: dict[str, list[dict[str, str]]], lesson: str, questions_json: str, index: int
) -> dict[str, str]:
    if lesson not in cache:
        cache[lesson] = json.loads(questions_json or "[]")
    questions = cache[lesson]
    if 0 <= index < len(questions):
        return questions[index]
    return {
        "prompt": f"(question {index + 1} of {lesson} is no longer in the lesson)",
        "answer": "",
    }


def _code_prompt(lesson: str, title: str) -> dict[str, str]:
    return {
        "prompt": f"Write the exercise of {title!r} again from memory.",
        "answer": f"Review it by submitting: tracker submit {lesson} FILE --review",
    }


def _card_columns() -> tuple[Any, ...]:
    card, lesson = ReviewCard.__table__.c, Lesson.__table__.c
    return (
        card.id,
        card.lesson_id,
        card.concept_id,
        lesson.depth,
        card.kind,
        card.state,
        card.due,
        card.question_index,
        lesson.title,
        lesson.questions_json,
    )


def _due_card(row: Any, cache: dict[str, list[dict[str, str]]]) -> DueCard:
    (card_id, lesson, concept, depth, kind, state, due, index, title, questions) = row
    text = (
        _code_prompt(lesson, title)
        if kind == "code"
        else _question(cache, lesson, questions, index)
    )
    return DueCard(
        card=card_id,
        lesson=lesson,
        concept=concept,
        depth=depth,
        kind=kind,
        state=STATES.get(state, str(state)),
        due=due,
        prompt=text["prompt"],
        answer=text.get("answer", ""),
    )


def list_due(
    session: Session, *, learner_id: int, until: datetime, limit: int | None = None
) -> list[DueCard]:
    """Cards due before ``until``, oldest first, with their prompts.

    One query on ix_review_cards_learner_due (learner, suspended, due), in
    Core so the daily path configures no ORM mappers and builds no objects
    per card.
    """
    card, lesson = ReviewCard.__table__.c, Lesson.__table__.c
    query = (
        select(*_card_columns())
        .join_from(ReviewCard.__table__, Lesson.__table__, card.lesson_id == lesson.id)
        .where(due_condition(learner_id=learner_id, until=until))
        .order_by(card.due, card.id)
    )
    if limit is not None:
        query = query.limit(limit)
    cache: dict[str, list[dict[str, str]]] = {}
    return [_due_card(row, cache) for row in session.execute(query)]


def show_card(session: Session, *, learner_id: int, card_id: int) -> DueCard:
    """One card with its prompt and answer, due or not."""
    card, lesson = ReviewCard.__table__.c, Lesson.__table__.c
    row = session.execute(
        select(*_card_columns())
        .join_from(ReviewCard.__table__, Lesson.__table__, card.lesson_id == lesson.id)
        .where(card.id == card_id, card.learner_id == learner_id)
    ).first()
    if row is None:
        raise CardNotFound(f"no review card {card_id}; see `tracker due`")
    return _due_card(row, {})


@dataclass(frozen=True)
class RatingResult:
    """What one rating did: the card's next due date and whether it was rated early."""

    card_id: int
    rating: str
    due: datetime
    previous_due: datetime
    state: str
    early: bool
    log_id: int
    local_date: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": self.card_id,
            "rating": self.rating,
            "due": self.due,
            "previous_due": self.previous_due,
            "state": self.state,
            "early": self.early,
            "date": self.local_date,
        }


def _locked_card(session: Session, *, learner_id: int, card_id: int) -> ReviewCard | None:
    return session.scalars(
        select(ReviewCard)
        .where(ReviewCard.id == card_id, ReviewCard.learner_id == learner_id)
        .with_for_update()
    ).one_or_none()


def _record_rating(
    session: Session,
    row: ReviewCard,
    *,
    rating: int,
    now: datetime,
    settings: Settings,
    duration_ms: int | None,
    submission_id: int | None,
) -> RatingResult:
    """Update the card and append its log inside the caller's transaction."""
    from tracker.scheduling import apply_card, card_from_row, review, scheduler_for

    clock = settings.clock
    # The log is a ledger the schedule is replayed from: it only moves forward in time.
    latest = max(row.created_at, row.last_review or row.created_at)
    if now < latest:
        raise UsageError(
            f"card {row.id} was last changed at {latest.astimezone(clock.tz):%Y-%m-%d %H:%M}; "
            "a rating cannot be dated before that (check TRACKER_NOW)"
        )
    scheduler = scheduler_for(session, learner_id=row.learner_id, settings=settings)
    previous_due, previous_state = row.due, row.state
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
    """Rate a question card inside the caller's transaction (card and log together)."""
    value = parse_rating(rating)
    row = _locked_card(session, learner_id=learner_id, card_id=card_id)
    if row is None:
        raise CardNotFound(f"no review card {card_id}; see `tracker due`")
    if row.kind == "code":
        raise CardNotRatable(
            f"card {card_id} is a code card: review it with "
            f"`tracker submit {row.lesson_id} FILE --review`"
        )
    return _record_rating(
        session,
        row,
        rating=value,
        now=now,
        settings=settings,
        duration_ms=duration_ms,
        submission_id=None,
    )


def code_rating(*, passed: bool, failed_earlier_today: bool) -> int:
    """Good for a pass on the first try, Hard after a failed try today, Again for a failure."""
    if not passed:
        return AGAIN
    return HARD if failed_earlier_today else GOOD


def rate_code_submission(
    session: Session,
    *,
    learner_id: int,
    lesson_id: str,
    passed: bool,
    failed_earlier_today: bool,
    now: datetime,
    settings: Settings,
    submission_id: int | None,
) -> RatingResult | None:
    """Rate the learner's code card for ``lesson_id`` from a review submission.

    Runs inside the caller's transaction (the one recording the submission);
    None when the learner has no code card for that lesson (not passed yet,
    or a lesson without an exercise).
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
    return _record_rating(
        session,
        row,
        rating=code_rating(passed=passed, failed_earlier_today=failed_earlier_today),
        now=now,
        settings=settings,
        duration_ms=None,
        submission_id=submission_id,
    )
