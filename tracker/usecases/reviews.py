"""Reviews: what is due, rating a card, the cards an interactive session goes through.

Listing what is due is plain SQL and never imports fsrs (``tracker due`` is a
daily command); rating goes through ``tracker.reviews`` (fsrs), one write per
rating, so quitting a session keeps what was rated. Code cards are rated by a
review submission (``tracker submit LESSON FILE --review``), never by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.due import due_until
from tracker.ledger import RatingResult, UndoResult, rate_card
from tracker.reviews import DueCard, list_due, show_card
from tracker.store import Store


@dataclass(frozen=True)
class DueList:
    """``due --json``: the cards due by the end of the learner-day, oldest first."""

    cards: tuple[DueCard, ...]

    def as_dict(self) -> list[dict[str, Any]]:
        return [card.as_dict() for card in self.cards]


def due(store: Store, *, learner_id: int, now: datetime, limit: int | None = None) -> DueList:
    with store.read() as session:
        cards = list_due(
            session, learner_id=learner_id, until=due_until(store.clock, now), limit=limit
        )
    return DueList(tuple(cards))


@dataclass(frozen=True)
class ReviewQueue:
    """What an interactive review goes through: question cards to rate, code cards apart."""

    cards: tuple[DueCard, ...]  # in order; code cards among them are shown, not rated
    early: DueCard | None = None  # the one card asked for, when it is not due yet

    @property
    def ratable(self) -> tuple[DueCard, ...]:
        return tuple(card for card in self.cards if card.kind != "code")

    @property
    def code_cards(self) -> tuple[DueCard, ...]:
        return tuple(card for card in self.cards if card.kind == "code")


def review_queue(
    store: Store, *, learner_id: int, now: datetime, card_id: int | None = None
) -> ReviewQueue:
    """The cards due today, or the one card asked for (due or not)."""
    until = due_until(store.clock, now)
    with store.read() as session:
        if card_id is not None:
            card = show_card(session, learner_id=learner_id, card_id=card_id)
            return ReviewQueue((card,), early=card if card.due >= until else None)
        return ReviewQueue(tuple(list_due(session, learner_id=learner_id, until=until)))


def rate(
    store: Store,
    *,
    learner_id: int,
    now: datetime,
    card_id: int,
    rating: int | str,
    duration_ms: int | None = None,
) -> RatingResult:
    """Rate one question card: its new schedule and its log entry, in one write."""
    with store.write() as session:
        return rate_card(
            session,
            learner_id=learner_id,
            card_id=card_id,
            rating=rating,
            now=now,
            settings=store.settings,
            duration_ms=duration_ms,
        )


@dataclass(frozen=True)
class RatingChoices:
    """What each rating would do to a card now: the next interval, as Anki shows it."""

    card: int
    days: dict[str, float]  # rating name -> days until the card would be due again

    def as_dict(self) -> dict[str, Any]:
        return {"card": self.card, "days": self.days}


def rating_choices(store: Store, *, learner_id: int, now: datetime, card_id: int) -> RatingChoices:
    from tracker.db.models import ReviewCard
    from tracker.errors import CardNotFound
    from tracker.ledger import preview_intervals

    with store.read() as session:
        row = session.get(ReviewCard, card_id)
        if row is None or row.learner_id != learner_id:
            raise CardNotFound(f"no review card {card_id}; see `tracker due`")
        intervals = preview_intervals(session, row=row, now=now, settings=store.settings)
    return RatingChoices(card_id, {k: v.total_seconds() / 86400 for k, v in intervals.items()})


def undo(store: Store, *, learner_id: int, now: datetime, card_id: int | None = None) -> UndoResult:
    """Take back the last rating made by hand (of ``card_id`` when given), in one write."""
    from tracker.ledger import undo_last

    with store.write() as session:
        return undo_last(
            session, learner_id=learner_id, now=now, settings=store.settings, card_id=card_id
        )
