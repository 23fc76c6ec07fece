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


def count_due(*, session: Session, learner_id: int, until: datetime) -> int:
    query = select(func.count()).select_from(ReviewCard.__table__)
    return session.scalar(query.where(due_condition(learner_id=learner_id, until=until))) or 0
