"""What is due: the one condition `due`, `review` and the check-in count share.

Kept apart from the scheduler so the daily check-in can count due cards
without importing fsrs; Core columns, so counting configures no ORM mappers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from tracker.clock import Clock
from tracker.db.models import ReviewCard


def due_until(clock: Clock, now: datetime) -> datetime:
    """The end of the learner-day ``now`` falls in: what `due` looks ahead to."""
    return clock.day_end(clock.local_day(now))


def due_condition(*, learner_id: int, until: datetime) -> ColumnElement[bool]:
    """Cards due before ``until``; served by ix_review_cards_learner_due."""
    card = ReviewCard.__table__.c
    return and_(card.learner_id == learner_id, card.suspended.is_(False), card.due < until)


def count_due(
    *, session: Session, learner_id: int, until: datetime, kind: str | None = None
) -> int:
    """Cards due before ``until``; only question or code cards with ``kind``."""
    card = ReviewCard.__table__.c
    query = select(func.count()).select_from(ReviewCard.__table__)
    query = query.where(due_condition(learner_id=learner_id, until=until))
    if kind is not None:
        query = query.where(card.kind == kind)
    return session.scalar(query) or 0


def due_code_cards(*, session: Session, learner_id: int, until: datetime) -> list[tuple[int, str]]:
    """(card, lesson) of the code cards due before ``until``, oldest first.

    A code card is reviewed by writing the exercise again and submitting it
    with ``--review``, so screens list these apart from the cards `review` rates.
    """
    card = ReviewCard.__table__.c
    rows = session.execute(
        select(card.id, card.lesson_id)
        .where(due_condition(learner_id=learner_id, until=until), card.kind == "code")
        .order_by(card.due, card.id)
    )
    return [(card_id, lesson) for card_id, lesson in rows]
