"""Keep learners' review cards attached to the right questions when lessons change.

A question card is stored by its position in the lesson's questions. When a
lesson's questions are edited, reordered or removed, the sync calls
``reconcile_question_cards`` so each card follows its question (matched by the
prompt, else by the answer), a card whose question is gone is suspended rather
than shown with a stale prompt, and a question added to a lesson a learner has
already passed gets its card. A retired lesson's cards are suspended with it.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.db.models import Progress, ReviewCard


def _questions(questions_json: str | None) -> list[dict[str, str]]:
    return json.loads(questions_json) if questions_json else []


def _match(old: list[dict[str, str]], new: list[dict[str, str]]) -> dict[int, int]:
    """Old question index -> new index: the same prompt first, then the same answer."""
    mapping: dict[int, int] = {}
    taken: set[int] = set()
    for field in ("prompt", "answer"):
        for i, question in enumerate(old):
            if i in mapping:
                continue
            for j, candidate in enumerate(new):
                if j not in taken and candidate.get(field) == question.get(field):
                    mapping[i] = j
                    taken.add(j)
                    break
    return mapping


def reconcile_question_cards(
    session: Session,
    *,
    lesson_id: str,
    concept_id: str,
    old_json: str | None,
    new_json: str,
    now: datetime,
) -> None:
    """Re-point, suspend and add question cards after ``lesson_id``'s questions changed."""
    old, new = _questions(old_json), _questions(new_json)
    cards = list(
        session.scalars(
            select(ReviewCard).where(
                ReviewCard.lesson_id == lesson_id, ReviewCard.kind == "question"
            )
        )
    )
    if old == new and all(0 <= c.question_index < len(new) for c in cards):
        return
    mapping = _match(old, new)
    # Free every position first: the unique (learner, lesson, kind, index) key holds at each flush.
    targets: dict[int, int | None] = {}
    for card in cards:
        targets[card.id] = mapping.get(card.question_index) if card.question_index >= 0 else None
        card.question_index = -card.id
    session.flush()
    for card in cards:
        target = targets[card.id]
        if target is None:
            card.suspended = True  # its question is gone; the history stays
        else:
            card.question_index = target
            card.suspended = False
    session.flush()

    have = {(c.learner_id, c.question_index) for c in cards if c.question_index >= 0}
    learners = list(
        session.scalars(select(Progress.learner_id).where(Progress.lesson_id == lesson_id))
    )
    for learner_id in learners:
        for index in range(len(new)):
            if (learner_id, index) not in have:
                session.add(
                    ReviewCard(
                        learner_id=learner_id,
                        lesson_id=lesson_id,
                        concept_id=concept_id,
                        kind="question",
                        question_index=index,
                        state=1,
                        step=0,
                        due=now,
                        created_at=now,
                    )
                )
    session.flush()


def set_lesson_cards_suspended(session: Session, *, lesson_id: str, suspended: bool) -> None:
    """Suspend a retired lesson's cards, or bring them back with it (orphans stay out)."""
    query = update(ReviewCard).where(ReviewCard.lesson_id == lesson_id)
    if not suspended:
        query = query.where(ReviewCard.question_index >= 0)
    session.execute(query.values(suspended=suspended))
