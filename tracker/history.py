"""The learner's timeline: every event once, with its kind, on the day it was recorded.

Kinds: ``study`` (a lesson's first pass by reading it), ``submission`` (a
first pass by an exercise), ``practice`` (a lesson passed or read again),
``attempt`` (a submission that failed or was cancelled; a failed review
submission that rated its card shows as that review instead), ``review`` (with its rating),
``checkin`` and ``import``. Each event keeps the learner-day it was recorded
on, so a later change of timezone never moves it to another date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import (
    Checkin,
    Lesson,
    PracticeAttempt,
    ReviewCard,
    ReviewLog,
    StudySession,
    Submission,
)
from tracker.reviews import rating_name

KINDS = ("study", "submission", "practice", "attempt", "review", "checkin", "import")


@dataclass(frozen=True)
class HistoryEvent:
    date: date
    at: datetime
    kind: str
    concept: str | None
    depth: int | None
    lesson: str | None
    rating: str | None = None  # a review's
    card: int | None = None  # a review's
    note: str | None = None  # why an attempt failed, how a practice was done
    title: str | None = None  # the lesson's

    def as_dict(self) -> dict[str, object]:
        document: dict[str, object] = {
            "date": self.date.isoformat(),
            "at": self.at.isoformat(),
            "kind": self.kind,
            "concept": self.concept,
            "depth": self.depth,
            "lesson": self.lesson,
        }
        if self.kind == "review":
            document["rating"] = self.rating
            document["card"] = self.card
        if self.note is not None:
            document["note"] = self.note
        return document


def learner_history(
    session: Session,
    *,
    learner_id: int,
    limit: int | None = None,
    kinds: tuple[str, ...] = KINDS,
    since: date | None = None,
) -> list[HistoryEvent]:
    """The learner's events, oldest first; ``limit`` keeps the last ones."""
    events: list[HistoryEvent] = []
    study, lesson_t = StudySession.__table__.c, Lesson.__table__.c
    for day, at, kind, concept, depth, lesson, title in session.execute(
        select(
            study.local_date,
            study.completed_at,
            study.kind,
            study.concept_id,
            study.depth,
            study.lesson_id,
            lesson_t.title,
        )
        .outerjoin_from(StudySession.__table__, Lesson.__table__, lesson_t.id == study.lesson_id)
        .where(study.learner_id == learner_id)
    ):
        events.append(HistoryEvent(day, at, kind, concept, depth, lesson, title=title))
    practice = PracticeAttempt.__table__.c
    for day, at, how, concept, depth, lesson, title in session.execute(
        select(
            practice.local_date,
            practice.practiced_at,
            practice.kind,
            practice.concept_id,
            practice.depth,
            practice.lesson_id,
            lesson_t.title,
        )
        .join_from(PracticeAttempt.__table__, Lesson.__table__, lesson_t.id == practice.lesson_id)
        .where(practice.learner_id == learner_id)
    ):
        note = "passed again" if how == "submission" else "read again"
        events.append(
            HistoryEvent(day, at, "practice", concept, depth, lesson, note=note, title=title)
        )
    sub = Submission.__table__.c
    log, card = ReviewLog.__table__.c, ReviewCard.__table__.c
    for day, at, concept, depth, lesson, error, title in session.execute(
        select(
            sub.local_date,
            sub.submitted_at,
            lesson_t.concept_id,
            lesson_t.depth,
            sub.lesson_id,
            sub.error,
            lesson_t.title,
        )
        .join_from(Submission.__table__, Lesson.__table__, lesson_t.id == sub.lesson_id)
        .outerjoin(ReviewLog.__table__, log.submission_id == sub.id)
        # a failed review submission that rated its card shows as that review
        .where(sub.learner_id == learner_id, sub.passed.is_(False), log.id.is_(None))
    ):
        note = (error or "a check failed").splitlines()[0][:120]
        events.append(
            HistoryEvent(day, at, "attempt", concept, depth, lesson, note=note, title=title)
        )
    for day, at, rating, card_id, concept, depth, lesson, title in session.execute(
        select(
            log.local_date,
            log.reviewed_at,
            log.rating,
            log.card_id,
            card.concept_id,
            lesson_t.depth,
            card.lesson_id,
            lesson_t.title,
        )
        .join_from(ReviewLog.__table__, ReviewCard.__table__, card.id == log.card_id)
        .join(Lesson.__table__, lesson_t.id == card.lesson_id)
        .where(log.learner_id == learner_id)
    ):
        events.append(
            HistoryEvent(
                day,
                at,
                "review",
                concept,
                depth,
                lesson,
                rating=rating_name(rating),
                card=card_id,
                title=title,
            )
        )
    checkin = Checkin.__table__.c
    for day, at in session.execute(
        select(checkin.local_date, checkin.checked_in_at).where(checkin.learner_id == learner_id)
    ):
        events.append(HistoryEvent(day, at, "checkin", None, None, None))
    wanted = set(kinds)
    events = [e for e in events if e.kind in wanted and (since is None or e.date >= since)]
    events.sort(key=lambda e: (e.at, KINDS.index(e.kind)))
    return events[-limit:] if limit else events
