"""The one loader of the report: everything it needs for one learner, read into plain values.

A handful of Core queries (no ORM objects: a five-year history is about
100,000 review rows) inside one read transaction, so every figure of a report
sees the same state. ``through`` cuts the history at the end of a learner-day
for `--date D`; cards are always as they stand now (their schedule is a cache
of the log that only a replay could date back).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from tracker.clock import Clock
from tracker.db.models import (
    Checkin,
    Concept,
    Learner,
    Lesson,
    Progress,
    ReviewCard,
    ReviewLog,
    StudySession,
)
from tracker.reports.facts import (
    CardFact,
    CategoryInfo,
    ConceptInfo,
    LessonInfo,
    ProgressFact,
    ReviewFact,
    ReviewLogFact,
    SessionFact,
)

if TYPE_CHECKING:
    from tracker.store import Store


@contextmanager
def reading(source: Store | Session) -> Iterator[Session]:
    """A session from a store (one read transaction) or the caller's own session."""
    if isinstance(source, Session):
        yield source
        return
    with source.read() as session:
        yield session


@dataclass(frozen=True)
class ReportData:
    learner: str
    categories: tuple[CategoryInfo, ...]
    concepts: tuple[ConceptInfo, ...]
    lessons: tuple[LessonInfo, ...]
    sessions: tuple[SessionFact, ...]  # oldest first
    progress: tuple[ProgressFact, ...]
    reviews: tuple[ReviewFact, ...]  # by card, then time
    cards: tuple[CardFact, ...]
    checkins: tuple[date, ...]

    def concept(self, concept_id: str) -> ConceptInfo | None:
        return next((c for c in self.concepts if c.id == concept_id), None)

    def lesson(self, lesson_id: str | None) -> LessonInfo | None:
        return next((x for x in self.lessons if x.id == lesson_id), None)


def category_titles(root: Path | None = None) -> dict[str, str]:
    """Category id -> title from curriculum.toml (the database keeps ids only)."""
    if root is None:
        from tracker.resources import lessons_dir

        root = lessons_dir()
    try:
        data = tomllib.loads((root / "curriculum.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    raw = data.get("categories", {})
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def load_report_data(
    session: Session, *, learner_id: int, clock: Clock, through: date | None = None
) -> ReportData:
    """Every fact a report needs for ``learner_id``, up to the end of learner-day ``through``."""
    concept = Concept.__table__.c
    concepts = tuple(
        ConceptInfo(*row)
        for row in session.execute(
            select(
                concept.id, concept.title, concept.category, concept.target_depth, concept.position
            )
            .where(concept.retired.is_(False))
            .order_by(concept.position, concept.id)
        )
    )
    titles = category_titles()
    used = list(dict.fromkeys(c.category for c in concepts))
    order = [c for c in titles if c in used] + [c for c in used if c not in titles]
    categories = tuple(CategoryInfo(c, titles.get(c, c.replace("-", " ").title())) for c in order)
    lessons = load_lessons(session)

    study = StudySession.__table__.c
    query = select(
        study.completed_at,
        study.local_date,
        study.concept_id,
        study.depth,
        study.lesson_id,
        study.kind,
    ).where(study.learner_id == learner_id)
    if through is not None:
        query = query.where(study.local_date <= through)
    sessions = tuple(
        SessionFact(*row) for row in session.execute(query.order_by(study.completed_at, study.id))
    )

    progress_c = Progress.__table__.c
    progress = []
    for lesson_id, concept_id, depth, achieved_at in session.execute(
        select(
            progress_c.lesson_id, progress_c.concept_id, progress_c.depth, progress_c.achieved_at
        ).where(progress_c.learner_id == learner_id)
    ):
        day = clock.local_day(achieved_at)
        if through is None or day <= through:
            progress.append(ProgressFact(lesson_id, concept_id, depth, day))

    log = ReviewLog.__table__.c
    # The day as stored text, parsed once per distinct day: a five-year ledger has about
    # 100,000 rows but fewer than 2,000 days (PostgreSQL hands back dates already).
    query = select(log.card_id, log.rating, type_coerce(log.local_date, String)).where(
        log.learner_id == learner_id
    )
    if through is not None:
        query = query.where(log.local_date <= through)
    days: dict[object, date] = {}
    reviews = tuple(
        ReviewFact(card, rating, day if type(day) is date else days.get(day) or _day(days, day))
        # .all() fetches in one call; iterating the result would fetch row by row.
        for card, rating, day in session.execute(
            query.order_by(log.card_id, log.reviewed_at, log.id)
        ).all()
    )
    cards = load_cards(session, learner_id=learner_id)

    checkin = Checkin.__table__.c
    query = select(checkin.local_date).where(checkin.learner_id == learner_id)
    if through is not None:
        query = query.where(checkin.local_date <= through)
    checkins = tuple(session.scalars(query.order_by(checkin.local_date)))

    name = session.scalar(
        select(Learner.__table__.c.name).where(Learner.__table__.c.id == learner_id)
    )
    return ReportData(
        learner=name or str(learner_id),
        categories=categories,
        concepts=concepts,
        lessons=lessons,
        sessions=sessions,
        progress=tuple(progress),
        reviews=reviews,
        cards=cards,
        checkins=checkins,
    )


def _day(cache: dict[object, date], text: object) -> date:
    cache[text] = value = date.fromisoformat(str(text))
    return value


def load_cards(session: Session, *, learner_id: int) -> tuple[CardFact, ...]:
    card = ReviewCard.__table__.c
    return tuple(
        CardFact._make(row)
        for row in session.execute(
            select(
                card.id,
                card.lesson_id,
                card.concept_id,
                card.kind,
                card.question_index,
                card.due,
                card.last_review,
                card.reps,
                card.suspended,
                card.stability,
            )
            .where(card.learner_id == learner_id)
            .order_by(card.id)
        ).all()
    )


def load_review_log(
    session: Session, *, learner_id: int, through: date | None = None
) -> tuple[ReviewLogFact, ...]:
    """Every rating with its instant, in time order (the review-log CSV)."""
    log = ReviewLog.__table__.c
    query = select(log.card_id, log.rating, log.reviewed_at, log.local_date).where(
        log.learner_id == learner_id
    )
    if through is not None:
        query = query.where(log.local_date <= through)
    rows = session.execute(query.order_by(log.reviewed_at, log.card_id, log.id)).all()
    return tuple(ReviewLogFact._make(row) for row in rows)


def load_lessons(session: Session) -> tuple[LessonInfo, ...]:
    lesson = Lesson.__table__.c
    return tuple(
        LessonInfo(*row)
        for row in session.execute(
            select(lesson.id, lesson.concept_id, lesson.depth, lesson.title, lesson.has_exercise)
            .where(lesson.retired.is_(False))
            .order_by(lesson.position, lesson.id)
        )
    )
