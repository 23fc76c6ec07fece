"""What passing a lesson records: the study session, the progress row, the review cards.

A concept's depth is the deepest lesson passed (so it is never lowered, and it
can jump from 0 to 3 when a deep lesson is passed first); ``tracker.rules``
says what that depth means. Every function here writes inside the caller's
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Lesson, PracticeAttempt, Progress, ReviewCard, StudySession

SESSION_KINDS = ("study", "submission", "import")


@dataclass(frozen=True)
class Passed:
    """What passing a lesson recorded: a first pass (a study session) or practice."""

    first_pass: bool
    local_date: date
    session_id: int | None = None  # the study session of a first pass
    practice_id: int | None = None  # the practice attempt of a later one
    cards_created: int = 0


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
) -> Passed:
    """Record a passed lesson inside the caller's transaction.

    The first pass is a study session, the progress (the concept's depth) and
    the lesson's review cards. A lesson passed before is practice: a
    ``PracticeAttempt`` (kept, shown in history), never a session, a connection
    or new cards, so "sessions completed" counts each lesson once.
    """
    if kind not in SESSION_KINDS:
        raise ValueError(f"unknown session kind {kind!r}")
    already = session.scalar(
        select(Progress.id).where(
            Progress.learner_id == learner_id, Progress.lesson_id == lesson.id
        )
    )
    if already is not None:
        practice = PracticeAttempt(
            learner_id=learner_id,
            lesson_id=lesson.id,
            concept_id=lesson.concept_id,
            depth=lesson.depth,
            kind=kind,
            practiced_at=completed_at,
            local_date=local_date,
            submission_id=submission_id,
        )
        session.add(practice)
        session.flush()
        return Passed(False, local_date, practice_id=practice.id)
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
    cards = create_cards(session, learner_id=learner_id, lesson=lesson, now=completed_at)
    session.flush()
    return Passed(True, local_date, session_id=study.id, cards_created=len(cards))


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
