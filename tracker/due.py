"""What is due: one indexed query shared by `due`, `review` and the check-in.

Kept apart from the scheduler so the daily check-in can count due cards
without importing fsrs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tracker.db.models import ReviewCard


def due_cards_query(*, learner_id: int, until: datetime) -> Select[tuple[ReviewCard]]:
    """Cards due before ``until``, oldest first; served by ix_review_cards_learner_due."""
    return (
        select(ReviewCard)
        .where(
            ReviewCard.learner_id == learner_id,
            ReviewCard.suspended.is_(False),
            ReviewCard.due < until,
        )
        .order_by(ReviewCard.due, ReviewCard.id)
    )


def due_cards(
    *, session: Session, learner_id: int, until: datetime, limit: int | None = None
) -> list[ReviewCard]:
    query = due_cards_query(learner_id=learner_id, until=until)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_due(*, session: Session, learner_id: int, until: datetime) -> int:
    # Core columns, not the mapped class: counting needs no ORM mapper configuration.
    card = ReviewCard.__table__.c
    return (
        session.scalar(
            select(func.count())
            .select_from(ReviewCard.__table__)
            .where(card.learner_id == learner_id, card.suspended.is_(False), card.due < until)
        )
        or 0
    )
