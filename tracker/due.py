"""What is due: the end of the learner-day, and the condition `due` and `review` list by.

Kept apart from the scheduler so the daily commands never import fsrs; Core
columns, so listing configures no ORM mappers. The check-in, `status` and the
reminders count with the same condition in plain SQL (``tracker.course``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_

from tracker.clock import Clock
from tracker.db.models import ReviewCard


def due_until(clock: Clock, now: datetime) -> datetime:
    """The end of the learner-day ``now`` falls in: what `due` looks ahead to."""
    return clock.day_end(clock.local_day(now))


def due_condition(*, learner_id: int, until: datetime) -> ColumnElement[bool]:
    """Cards due before ``until``; served by ix_review_cards_learner_due."""
    card = ReviewCard.__table__.c
    return and_(card.learner_id == learner_id, card.suspended.is_(False), card.due < until)
