"""Plain typed values a report is computed from: what the loader reads, what the tests write.

Row facts are NamedTuples, not dataclasses: a five-year history is about
100,000 review rows, and a tuple is built several times faster than a frozen
dataclass, which keeps the report within a small multiple of the check-in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

SESSION_KINDS = ("study", "submission", "import")  # the rows of study_sessions that count


class CategoryInfo(NamedTuple):
    id: str
    title: str


class ConceptInfo(NamedTuple):
    id: str
    title: str
    category: str
    target_depth: int
    position: int = 0


class LessonInfo(NamedTuple):
    id: str
    concept: str
    depth: int
    title: str
    has_exercise: bool = False


class SessionFact(NamedTuple):
    """One row of study_sessions."""

    completed_at: datetime
    local_date: date
    concept: str
    depth: int
    lesson: str | None
    kind: str


class ProgressFact(NamedTuple):
    """A passed lesson: ``concept`` reached ``depth`` on learner-day ``local_date``."""

    lesson: str
    concept: str
    depth: int
    local_date: date


class ReviewFact(NamedTuple):
    """One rating in the review log (1 again, 2 hard, 3 good, 4 easy), on its learner-day.

    No instant: the statistics need the order (the loader sorts by card, then
    time) and the day; converting 100,000 timestamps would double the load.
    """

    card: int
    rating: int
    local_date: date


class ReviewLogFact(NamedTuple):
    """One rating with its instant, for the review-log CSV."""

    card: int
    rating: int
    reviewed_at: datetime
    local_date: date


class CardFact(NamedTuple):
    """A review card as it stands now: its schedule is the cache of its log."""

    id: int
    lesson: str
    concept: str
    kind: str  # question | code
    question_index: int
    due: datetime
    last_review: datetime | None
    reps: int
    suspended: bool
    stability: float | None = None
