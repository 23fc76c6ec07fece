"""Typed SQLAlchemy models: the whole schema in one place.

Per-person rows carry ``learner_id`` so one PostgreSQL database can serve a
team. Review logs are a ledger (never updated); the scheduling columns on a
card are a cache a replay of its logs can rebuild. Models never touch a
global session: queries are functions that take one.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tracker.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SLUG = String(80)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Meta(Base):
    """Installation-wide facts, such as the fingerprint of the synced curriculum."""

    __tablename__ = "tracker_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Learner(Base):
    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Setting(Base):
    """Per-learner values that belong with the data, e.g. fitted FSRS parameters (JSON)."""

    __tablename__ = "settings"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Concept(Base):
    __tablename__ = "concepts"

    id: Mapped[str] = mapped_column(SLUG, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), index=True)
    target_depth: Mapped[int] = mapped_column(Integer, default=3)
    summary: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    lessons: Mapped[list[Lesson]] = relationship(back_populates="concept")


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[str] = mapped_column(SLUG, primary_key=True)
    concept_id: Mapped[str] = mapped_column(ForeignKey("concepts.id"), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    has_exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"prompt": ..., "answer": ...}]; review cards point at an index in this list.
    questions_json: Mapped[str] = mapped_column(Text, default="[]")
    content_sha256: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    concept: Mapped[Concept] = relationship(back_populates="lessons")
    prerequisites: Mapped[list[LessonPrerequisite]] = relationship(
        back_populates="lesson", cascade="all, delete-orphan"
    )


class LessonPrerequisite(Base):
    """A lesson needs ``concept_id`` at ``depth`` or deeper."""

    __tablename__ = "lesson_prerequisites"

    lesson_id: Mapped[str] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True
    )
    concept_id: Mapped[str] = mapped_column(ForeignKey("concepts.id"), primary_key=True)
    depth: Mapped[int] = mapped_column(Integer)

    lesson: Mapped[Lesson] = relationship(back_populates="prerequisites")


class StudySession(Base):
    """A completed piece of study: a lesson read, a submission passed, an imported post."""

    __tablename__ = "study_sessions"
    __table_args__ = (
        Index("ix_study_sessions_learner_day", "learner_id", "local_date"),
        # An imported session is identified by (learner, date, concept, depth): importing
        # a journal twice, or two posts that list the same session, records it once.
        Index(
            "uq_study_sessions_import",
            "learner_id",
            "local_date",
            "concept_id",
            "depth",
            unique=True,
            sqlite_where=text("kind = 'import'"),
            postgresql_where=text("kind = 'import'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    lesson_id: Mapped[str | None] = mapped_column(ForeignKey("lessons.id"), nullable=True)
    concept_id: Mapped[str] = mapped_column(ForeignKey("concepts.id"))
    depth: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # study | submission | import
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class PracticeAttempt(Base):
    """A lesson passed or studied again after its first pass: shown in history, never a session.

    A study session is a lesson's first pass (``StudySession``); coming back to
    it is practice, which adds no session, no connection and no cards.
    """

    __tablename__ = "practice_attempts"
    __table_args__ = (Index("ix_practice_attempts_learner_day", "learner_id", "local_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id"))
    concept_id: Mapped[str] = mapped_column(ForeignKey("concepts.id"))
    depth: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # study | submission: how it was practised
    practiced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)


class Submission(Base):
    """Every validation attempt, passed or not, with its full verdict as JSON."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_learner_lesson_time", "learner_id", "lesson_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id"))
    # Made by the client before a hand-off: the same request is recorded once.
    request_id: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True, index=True
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    code_sha256: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(Boolean)
    for_review: Mapped[bool] = mapped_column(Boolean, default=False)
    device: Mapped[str] = mapped_column(String(16))
    isolation: Mapped[str] = mapped_column(String(32))
    duration_s: Mapped[float] = mapped_column(Float)
    verdict_json: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Progress(Base):
    """A passed lesson: the concept reached ``depth`` then. A concept's depth is the max."""

    __tablename__ = "progress"
    __table_args__ = (UniqueConstraint("learner_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    concept_id: Mapped[str] = mapped_column(ForeignKey("concepts.id"))
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id"))
    depth: Mapped[int] = mapped_column(Integer)
    achieved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("study_sessions.id"), nullable=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)


class ReviewCard(Base):
    """An FSRS card. The scheduling columns mirror ``fsrs.Card`` so "what is due"
    is one indexed query; ``kind`` is question (rated by the learner) or code
    (rated by a review submission)."""

    __tablename__ = "review_cards"
    __table_args__ = (
        UniqueConstraint("learner_id", "lesson_id", "kind", "question_index"),
        Index("ix_review_cards_learner_due", "learner_id", "suspended", "due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id"))
    concept_id: Mapped[str] = mapped_column(ForeignKey("concepts.id"))
    kind: Mapped[str] = mapped_column(String(16))  # question | code
    question_index: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[int] = mapped_column(
        Integer, default=1
    )  # fsrs.State: 1 learning, 2 review, 3 relearning
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stability: Mapped[float | None] = mapped_column(Float, nullable=True)
    difficulty: Mapped[float | None] = mapped_column(Float, nullable=True)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewLog(Base):
    """One rating of one card; the ledger a card's schedule can be replayed from."""

    __tablename__ = "review_logs"
    __table_args__ = (
        Index("ix_review_logs_card_time", "card_id", "reviewed_at"),
        Index("ix_review_logs_learner_time", "learner_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("review_cards.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    rating: Mapped[int] = mapped_column(Integer)  # fsrs.Rating: 1 again, 2 hard, 3 good, 4 easy
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    review_duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    # The card's scheduling columns just before this rating (JSON): taking the rating
    # back (an undo, a same-day re-rating) restores them without a replay.
    card_before: Mapped[str | None] = mapped_column(Text, nullable=True)


class RetractedReview(Base):
    """A rating taken back from the ledger, kept whole: undone, or replaced the same day.

    The review log stays the one ledger every figure is computed from (nothing
    reads this table but `history` and the audit); what left it is kept here.
    """

    __tablename__ = "retracted_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    log_id: Mapped[int] = mapped_column(Integer)  # the id it had in review_logs
    card_id: Mapped[int] = mapped_column(ForeignKey("review_cards.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    rating: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(16))  # undo | replaced | merged
    retracted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the new log's id
    row_json: Mapped[str] = mapped_column(Text)  # the whole review_logs row as it was


class Checkin(Base):
    """The daily check-in, at most one per learner-day."""

    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("learner_id", "local_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    local_date: Mapped[date] = mapped_column(Date)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One reminder (kind, learner-day) on one channel: claimed once, then sent, failed or skipped.

    The unique key is the claim: a process inserts the row (``ON CONFLICT DO
    NOTHING``) inside its write transaction before it sends anything, and only
    the process whose insert went in sends. ``status`` is ``claimed`` while a
    try is under way (``lease_until``) or a retry waits (``next_try_at``), then
    ``sent``, ``failed`` (``last_error``) or ``skipped`` (``note`` says why).
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("learner_id", "kind", "local_date", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    kind: Mapped[str] = mapped_column(String(16))  # daily | streak
    local_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # claimed | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The reminder as first claimed (JSON): every retry sends the same message.
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)
