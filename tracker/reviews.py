"""Review cards as a learner sees them: what is due, one card, rating names.

Listing what is due is plain SQL over ``ix_review_cards_learner_due`` and
never imports fsrs, so ``tracker due`` stays as quick as the other daily
commands. Rating a card is the ledger's (``tracker.ledger``).

Question cards are rated by the learner (``tracker review``); a code card is
rated by a review submission (``tracker submit LESSON FILE --review``).

"Due" means due before the end of the learner's current day (timezone and
day boundary from the config), so a morning session sees everything that
falls due today. Rating a card that is not due today is allowed; the result
says it was early.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Lesson, ReviewCard
from tracker.due import due_condition
from tracker.errors import CardNotFound, InvalidRating

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
