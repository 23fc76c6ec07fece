"""What the calendar and Anki exports carry, as typed documents, and the use cases that build them.

Both exports are re-imported by other tools, so identity matters more than
looks: a review day, a planned lesson and a question card each get an id
derived from what they are (the learner, the day, the lesson, the card), never
from when the file was made, so importing a newer file updates the entries of
the older one instead of adding copies.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.clock import Clock
from tracker.db.models import Concept, Learner, Lesson, ReviewCard
from tracker.reports.data import load_cards, reading
from tracker.reports.facts import CardFact
from tracker.reports.planning import PlanItem, upcoming_plan

if TYPE_CHECKING:
    from tracker.store import Store


def learner_key(name: str) -> str:
    """A short stable token for a learner name, safe inside UIDs and tags."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]


def due_by_day(
    cards: Iterable[CardFact], *, clock: Clock, today: date, days: int
) -> list[tuple[date, int]]:
    """What `tracker due` will list on each learner-day: overdue and new cards count for today."""
    if days < 1:
        raise ValueError("days must be at least 1")
    counts: Counter[date] = Counter()
    last = today + timedelta(days=days - 1)
    for card in cards:
        if card.suspended:
            continue
        day = max(clock.local_day(card.due), today)
        if day <= last:
            counts[day] += 1
    return [(today + timedelta(days=i), counts[today + timedelta(days=i)]) for i in range(days)]


@dataclass(frozen=True)
class CalendarDocument:
    generated_at: datetime
    learner: str
    clock: Clock
    reminder_time: time
    first_day: date
    days: int
    review_days: tuple[tuple[date, int], ...]  # only days with cards due
    sessions: tuple[PlanItem, ...]  # planned lessons within the window

    @property
    def learner_key(self) -> str:
        return learner_key(self.learner)


def _learner_name(session: Session, learner_id: int) -> str:
    learner = Learner.__table__.c
    name = session.scalar(select(learner.name).where(learner.id == learner_id))
    return name or str(learner_id)


def build_calendar(
    source: Store | Session,
    *,
    learner_id: int,
    now: datetime,
    clock: Clock,
    days: int = 30,
    reminder_time: str = "09:00",
    sessions_per_week: int = 3,
) -> CalendarDocument:
    """Review days and planned sessions of the next ``days`` learner-days, for iCalendar."""
    today = clock.local_day(now)
    hours, minutes = (int(part) for part in reminder_time.split(":"))
    with reading(source) as session:
        cards = [c for c in load_cards(session, learner_id=learner_id) if not c.suspended]
        plan = upcoming_plan(
            session,
            learner_id=learner_id,
            clock=clock,
            today=today,
            sessions_per_week=sessions_per_week,
        )
        name = _learner_name(session, learner_id)
    end = today + timedelta(days=days)
    return CalendarDocument(
        generated_at=now,
        learner=name,
        clock=clock,
        reminder_time=time(hours, minutes),
        first_day=today,
        days=days,
        review_days=tuple(
            (d, n) for d, n in due_by_day(cards, clock=clock, today=today, days=days) if n
        ),
        sessions=tuple(p for p in plan if p.date < end),
    )


@dataclass(frozen=True)
class DeckNote:
    card_id: int
    lesson: str
    lesson_title: str
    concept: str
    concept_title: str
    category: str
    depth: int
    prompt: str
    answer: str


@dataclass(frozen=True)
class DeckDocument:
    learner: str
    notes: tuple[DeckNote, ...]

    @property
    def learner_key(self) -> str:
        return learner_key(self.learner)


def build_deck(source: Store | Session, *, learner_id: int) -> DeckDocument:
    """The learner's question cards (not suspended) with their prompts and answers."""
    card, lesson, concept = (
        ReviewCard.__table__.c,
        Lesson.__table__.c,
        Concept.__table__.c,
    )
    with reading(source) as session:
        rows = session.execute(
            select(
                card.id,
                card.lesson_id,
                lesson.title,
                card.concept_id,
                concept.title,
                concept.category,
                lesson.depth,
                card.question_index,
                lesson.questions_json,
            )
            .join_from(ReviewCard.__table__, Lesson.__table__, lesson.id == card.lesson_id)
            .join(Concept.__table__, concept.id == card.concept_id)
            .where(
                card.learner_id == learner_id,
                card.kind == "question",
                card.suspended.is_(False),
            )
            .order_by(lesson.position, card.question_index, card.id)
        ).all()
        name = _learner_name(session, learner_id)
    parsed: dict[str, list[dict[str, str]]] = {}
    notes = []
    for card_id, lesson_id, title, concept_id, concept_title, category, depth, index, raw in rows:
        questions = parsed.setdefault(lesson_id, json.loads(raw or "[]"))
        if not 0 <= index < len(questions):
            continue  # the sync suspends such cards; a stale row is left out, not guessed
        notes.append(
            DeckNote(
                card_id=card_id,
                lesson=lesson_id,
                lesson_title=title,
                concept=concept_id,
                concept_title=concept_title,
                category=category,
                depth=depth,
                prompt=questions[index]["prompt"],
                answer=questions[index].get("answer", ""),
            )
        )
    return DeckDocument(learner=name, notes=tuple(notes))
