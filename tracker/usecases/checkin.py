"""The daily loop: check in, see the plan, study a lesson.

The check-in is what learners run every morning, so it is written for speed:
everything is read in the one short write transaction that records the
check-in, with Core queries (``tracker.standing``), and nothing here imports
rich, fsrs, Alembic or torch. The choice of lesson is ``tracker.planner``'s;
this module turns its answer into the documents of docs/architecture.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker import hints
from tracker.course import load_due
from tracker.curriculum.names import unknown_lesson
from tracker.db.models import Lesson
from tracker.due import due_until
from tracker.errors import CurriculumError, LessonLocked, UsageError
from tracker.planner import LessonNode, Pick, Plan, PlannedSession
from tracker.rules import Requirement, depth_label, locked_message, missing_requirements
from tracker.standing import (
    Connection,
    Streak,
    concept_depths,
    connections,
    has_passed,
    load_active_days,
    read_standing,
    record_checkin,
    streak_of,
)
from tracker.store import Store


@dataclass(frozen=True)
class Focus:
    """Today's lesson and why."""

    concept: str
    depth: int
    lesson: str
    reason: str
    title: str
    rule: str
    has_exercise: bool
    reviews_first: int

    @property
    def depth_label(self) -> str:
        return depth_label(self.depth)

    @property
    def next_step(self) -> str:
        return hints.study_steps(self.lesson, self.has_exercise)

    @property
    def first(self) -> str | None:
        """What comes before the lesson: the reviews due, if any."""
        if self.reviews_first <= 0:
            return None
        noun = "review" if self.reviews_first == 1 else "reviews"
        return f"{self.reviews_first} {noun} due first: run `{hints.review()}`"

    def as_dict(self) -> dict[str, Any]:
        return {
            "concept": self.concept,
            "depth": self.depth,
            "lesson": self.lesson,
            "reason": self.reason,
            "title": self.title,
            "depth_label": self.depth_label,
            "rule": self.rule,
            "has_exercise": self.has_exercise,
            "next_step": self.next_step,
            "reviews_first": self.reviews_first,
            "first": self.first,
        }


def focus_of(pick: Pick | None, due_reviews: int) -> Focus | None:
    if pick is None:
        return None
    lesson = pick.lesson
    return Focus(
        concept=lesson.concept,
        depth=lesson.depth,
        lesson=lesson.id,
        reason=pick.reason,
        title=lesson.title,
        rule=pick.rule,
        has_exercise=lesson.has_exercise,
        reviews_first=due_reviews,
    )


@dataclass(frozen=True)
class PlannedItem:
    """One planned session: a lesson on a day, with the rule that chose it."""

    concept: str
    depth: int
    lesson: str
    title: str
    date: date
    rule: str
    reason: str
    has_exercise: bool

    @classmethod
    def of(cls, planned: PlannedSession) -> PlannedItem:
        lesson = planned.pick.lesson
        return cls(
            concept=lesson.concept,
            depth=lesson.depth,
            lesson=lesson.id,
            title=lesson.title,
            date=planned.day,
            rule=planned.pick.rule,
            reason=planned.pick.reason,
            has_exercise=lesson.has_exercise,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "concept": self.concept,
            "depth": self.depth,
            "lesson": self.lesson,
            "title": self.title,
            "date": self.date.isoformat(),
            "rule": self.rule,
            "reason": self.reason,
            "has_exercise": self.has_exercise,
        }


@dataclass(frozen=True)
class PlanLists:
    """The sessions planned this week (days 0-6), this month (to day 30), this quarter."""

    week: tuple[PlannedItem, ...]
    month: tuple[PlannedItem, ...]
    quarter: tuple[PlannedItem, ...]

    @classmethod
    def of(cls, result: Plan) -> PlanLists:
        """The sessions still to do (those done today are the document's ``done_today``)."""
        return cls(
            week=tuple(PlannedItem.of(p) for p in result.week if not p.done),
            month=tuple(PlannedItem.of(p) for p in result.month),
            quarter=tuple(PlannedItem.of(p) for p in result.quarter),
        )

    @property
    def empty(self) -> bool:
        return not (self.week or self.month or self.quarter)

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "week": [item.as_dict() for item in self.week],
            "month": [item.as_dict() for item in self.month],
            "quarter": [item.as_dict() for item in self.quarter],
        }


@dataclass(frozen=True)
class CodeCardDue:
    """A code card due today: reviewed by writing the exercise again, not by `review`."""

    card: int
    lesson: str

    @property
    def steps(self) -> str:
        return hints.code_card_steps(self.lesson)

    def as_dict(self) -> dict[str, Any]:
        return {"card": self.card, "lesson": self.lesson, "steps": self.steps}


@dataclass(frozen=True)
class PathStep:
    lesson: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return {"lesson": self.lesson, "passed": self.passed}


@dataclass(frozen=True)
class CheckinDocument:
    """The check-in screen as data; ``as_dict`` is ``checkin --json``."""

    date: date
    streak: Streak
    sessions_completed: int
    due_reviews: int  # cards `tracker review` can rate
    due_code_cards: tuple[CodeCardDue, ...]
    focus: Focus | None
    connections: tuple[Connection, ...]
    plan: PlanLists
    done_today: tuple[PlannedItem, ...]
    checked_in_at: datetime
    sessions_per_week: int
    lessons_passed: int
    lessons_total: int
    main_path: tuple[PathStep, ...]

    @property
    def streak_days(self) -> int:
        return self.streak.current

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "streak_days": self.streak.current,
            "best_streak_days": self.streak.best,
            "missed_days": self.streak.missed,
            "sessions_completed": self.sessions_completed,
            "due_reviews": self.due_reviews,
            "due_code_cards": [c.as_dict() for c in self.due_code_cards],
            "done_today": [item.as_dict() for item in self.done_today],
            "focus": self.focus.as_dict() if self.focus else None,
            "connections": [c.as_dict() for c in self.connections],
            "plan": self.plan.as_dict(),
            "checked_in_at": self.checked_in_at.isoformat(),
            "sessions_per_week": self.sessions_per_week,
            "lessons_passed": self.lessons_passed,
            "lessons_total": self.lessons_total,
            "main_path": [step.as_dict() for step in self.main_path],
        }


@dataclass(frozen=True)
class PlanDocument:
    """``plan --json``: today's focus and the week / month / quarter lists."""

    date: date
    sessions_per_week: int
    focus: Focus | None
    plan: PlanLists

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "sessions_per_week": self.sessions_per_week,
            "focus": self.focus.as_dict() if self.focus else None,
            **self.plan.as_dict(),
        }


def checkin(store: Store, *, learner_id: int, now: datetime) -> CheckinDocument:
    """Record today's check-in (once per learner-day) and say where the learner stands.

    One write transaction: the record and every read see one state.
    """
    clock, per_week = store.clock, store.settings.sessions_per_week
    today = clock.local_day(now)
    with store.write() as session:
        checked_in_at, _days = record_checkin(session, learner_id=learner_id, day=today, now=now)
        standing = read_standing(
            session, learner_id=learner_id, clock=clock, today=today, sessions_per_week=per_week
        )
        active = load_active_days(session, learner_id=learner_id, until=today)
        due_today = load_due(session, learner_id=learner_id, until=due_until(clock, now))
    sessions, progress, graph = standing.sessions, standing.progress, standing.graph
    pick = standing.plan.focus
    return CheckinDocument(
        date=today,
        streak=streak_of(active, today),
        sessions_completed=len(sessions),
        due_reviews=due_today.questions,
        due_code_cards=tuple(CodeCardDue(card, lesson) for card, lesson in due_today.code_cards),
        focus=focus_of(pick, due_today.questions),
        connections=tuple(connections(pick.lesson, sessions)) if pick else (),
        plan=PlanLists.of(standing.plan),
        done_today=tuple(PlannedItem.of(p) for p in standing.plan.done_today),
        checked_in_at=checked_in_at,
        sessions_per_week=per_week,
        lessons_passed=sum(1 for n in graph.lessons if n.id in progress.passed),
        lessons_total=len(graph.lessons),
        main_path=tuple(PathStep(i, i in progress.passed) for i in graph.main_path),
    )


def plan(store: Store, *, learner_id: int, now: datetime) -> PlanDocument:
    """The plan alone; records nothing."""
    per_week = store.settings.sessions_per_week
    today = store.clock.local_day(now)
    with store.read() as session:
        standing = read_standing(
            session,
            learner_id=learner_id,
            clock=store.clock,
            today=today,
            sessions_per_week=per_week,
        )
    return PlanDocument(
        date=today,
        sessions_per_week=per_week,
        focus=focus_of(standing.plan.focus, 0),
        plan=PlanLists.of(standing.plan),
    )


# --- learn -----------------------------------------------------------------


@dataclass(frozen=True)
class LessonView:
    """A lesson as `learn` shows it, with its lock state for this learner."""

    lesson: LessonNode
    content: str
    questions: tuple[str, ...]
    missing: tuple[Requirement, ...]  # unmet prerequisites
    depths: dict[str, int]  # the learner's depth in each concept
    passed_before: bool

    @property
    def concept_depth(self) -> int:
        return self.depths.get(self.lesson.concept, 0)

    @property
    def locked(self) -> bool:
        return bool(self.missing)

    def locked_message(self) -> str:
        return locked_message(self.lesson.id, self.missing, self.depths)


def _lesson_row(session: Session, lesson_id: str) -> Lesson:
    row = session.get(Lesson, lesson_id)
    if row is None or row.retired:
        raise unknown_lesson(lesson_id)
    return row


def _requirements(row: Lesson) -> tuple[Requirement, ...]:
    return tuple(
        Requirement(p.concept_id, p.depth)
        for p in sorted(row.prerequisites, key=lambda p: p.concept_id)
    )


def view_lesson(store: Store, *, learner_id: int, lesson_id: str) -> LessonView:
    """The lesson's text, questions and lock state; its text is read from lessons/."""
    from tracker.resources import lessons_dir

    with store.read() as session:
        row = _lesson_row(session, lesson_id)
        requires = _requirements(row)
        node = LessonNode(
            id=row.id,
            concept=row.concept_id,
            depth=row.depth,
            category=row.concept.category,
            requires=requires,
            title=row.title,
            has_exercise=row.has_exercise,
        )
        questions = tuple(q["prompt"] for q in json.loads(row.questions_json))
        depths = concept_depths(session, learner_id=learner_id)
        passed_before = has_passed(session, learner_id=learner_id, lesson_id=lesson_id)
    path = lessons_dir() / lesson_id / "lesson.md"
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CurriculumError(f"{path}: cannot read the lesson text: {exc}") from exc
    return LessonView(
        lesson=node,
        content=content,
        questions=questions,
        missing=tuple(missing_requirements(requires, depths)),
        depths=depths,
        passed_before=passed_before,
    )


@dataclass(frozen=True)
class StudyRecord:
    lesson: str
    concept: str
    depth: int  # the lesson's depth
    concept_depth: int  # the concept's depth after this session (never lowered)
    date: date
    first_pass: bool
    cards_created: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "concept": self.concept,
            "depth": self.depth,
            "concept_depth": self.concept_depth,
            "date": self.date.isoformat(),
            "first_pass": self.first_pass,
            "cards_created": self.cards_created,
        }


def learn(
    store: Store, *, learner_id: int, now: datetime, lesson_id: str, force: bool = False
) -> StudyRecord:
    """Record a read-through of a lesson without an exercise, in one write.

    Refuses a locked lesson unless ``force``; an exercise lesson is passed by
    ``tracker submit`` only. Studying a lesson passed before is practice: no new
    session, depth or cards (``record_passed_lesson``).
    """
    from tracker.progress import record_passed_lesson

    with store.write() as session:
        row = _lesson_row(session, lesson_id)
        if row.has_exercise:
            raise UsageError(
                f"{lesson_id} is passed by its exercise: {hints.exercise_steps(lesson_id)}"
            )
        depths = concept_depths(session, learner_id=learner_id)
        missing = missing_requirements(_requirements(row), depths)
        if missing and not force:
            raise LessonLocked(locked_message(lesson_id, missing, depths))
        passed = record_passed_lesson(
            session,
            learner_id=learner_id,
            lesson=row,
            kind="study",
            completed_at=now,
            local_date=store.clock.local_day(now),
        )
        return StudyRecord(
            lesson=lesson_id,
            concept=row.concept_id,
            depth=row.depth,
            concept_depth=max(depths.get(row.concept_id, 0), row.depth),
            date=passed.local_date,
            first_pass=passed.first_pass,
            cards_created=passed.cards_created,
        )
