"""The learner's timeline: study sessions, reviews and check-ins as one dated list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Checkin, Lesson, ReviewCard, ReviewLog, StudySession


@dataclass(frozen=True)
class HistoryEvent:
    date: date
    at: datetime
    kind: str  # study | submission | review | checkin | import
    concept: str | None
    depth: int | None
    lesson: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.date.isoformat(),
            "at": self.at.isoformat(),
            "kind": self.kind,
            "concept": self.concept,
            "depth": self.depth,
            "lesson": self.lesson,
        }


def learner_history(
    session: Session, *, learner_id: int, limit: int | None = None
) -> list[HistoryEvent]:
    events = [
        HistoryEvent(s.local_date, s.completed_at, s.kind, s.concept_id, s.depth, s.lesson_id)
        for s in session.scalars(select(StudySession).where(StudySession.learner_id == learner_id))
    ]
    reviews = session.execute(
        select(
            ReviewLog.local_date,
            ReviewLog.reviewed_at,
            ReviewCard.concept_id,
            Lesson.depth,
            Lesson.id,
        )
        .join(ReviewCard, ReviewCard.id == ReviewLog.card_id)
        .join(Lesson, Lesson.id == ReviewCard.lesson_id)
        .where(ReviewLog.learner_id == learner_id)
    )
    events += [
        HistoryEvent(d, at, "review", c, depth, lesson) for d, at, c, depth, lesson in reviews
    ]
    checkins = session.execute(
        select(Checkin.local_date, Checkin.checked_in_at).where(Checkin.learner_id == learner_id)
    )
    events += [HistoryEvent(d, at, "checkin", None, None, None) for d, at in checkins]
    events.sort(key=lambda e: (e.at, e.kind))
    return events[-limit:] if limit else events
