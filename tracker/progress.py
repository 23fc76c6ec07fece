"""What passing a lesson records: the study session, the progress row, the review cards.

A concept's depth is the deepest lesson passed (so it is never lowered, and it
can jump from 0 to 3 when a deep lesson is passed first); ``tracker.rules``
says what that depth means. Every function here writes inside the caller's
transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Lesson, Progress, ReviewCard, StudySession

SESSION_KINDS = ("study", "submission", "import")


def record_passed_lesson(
    session: Session,
    *,
    learner_id: int,
    lesson: Lesson,
    kind: str,
    completed_at: datetime,
    local_date: date,
    submission_id: int | None = None,
    source: str | None = None,
) -> StudySession:
    """Record a completed lesson inside the caller's transaction: the session,
    the progress (first pass only) and the lesson's review cards (once)."""
    if kind not in SESSION_KINDS:
        raise ValueError(f"unknown session kind {kind!r}")
    study = StudySession(
        learner_id=learner_id,
        lesson_id=lesson.id,
        concept_id=lesson.concept_id,
        depth=lesson.depth,
        kind=kind,
        completed_at=completed_at,
        local_date=local_date,
        submission_id=submission_id,
        source=source,
    )
    session.add(study)
    session.flush()
    already = session.scalar(
        select(Progress.id).where(
            Progress.learner_id == learner_id, Progress.lesson_id == lesson.id
        )
    )
    if already is None:
        session.add(
            Progress(
                learner_id=learner_id,
                concept_id=lesson.concept_id,
                lesson_id=lesson.id,
                depth=lesson.depth,
                achieved_at=completed_at,
                session_id=study.id,
                submission_id=submission_id,
            )
        )
        create_cards(session, learner_id=learner_id, lesson=lesson, now=completed_at)
    session.flush()
    return study


def create_cards(
    session: Session, *, learner_id: int, lesson: Lesson, now: datetime
) -> list[ReviewCard]:
    """One card per understanding-check question, plus a code card for an exercise.

    New cards start as ``fsrs.Card()`` does (learning, step 0, due now); the
    values are written here so recording progress never imports fsrs.
    """
    import json

    existing = {
        (kind, index)
        for kind, index in session.execute(
            select(ReviewCard.kind, ReviewCard.question_index).where(
                ReviewCard.learner_id == learner_id, ReviewCard.lesson_id == lesson.id
            )
        )
    }
    wanted = [("question", index) for index in range(len(json.loads(lesson.questions_json)))]
    if lesson.has_exercise:
        wanted.append(("code", 0))
    cards = [
        ReviewCard(
            learner_id=learner_id,
            lesson_id=lesson.id,
            concept_id=lesson.concept_id,
            kind=kind,
            question_index=index,
            state=1,
            step=0,
            due=now,
            created_at=now,
        )
        for kind, index in wanted
        if (kind, index) not in existing
    ]
    session.add_all(cards)
    return cards
