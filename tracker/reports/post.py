"""The day's learning-journal post as a typed document, and the use case that builds it.

A post is the learner's own record of one learner-day, in the shape they
already publish (ARCHITECTURE.md, "Learning-journal post"): what they
studied that day (the last study session is the focus), what it builds on,
the lesson's text and questions, the plan from the next day on, and the
growth indicators as of that day. Every part comes from the database, the
lesson files and the planner; ``tracker.render.post`` writes the Markdown.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.clock import Clock
from tracker.db.models import Lesson, LessonPrerequisite
from tracker.errors import CurriculumError, UsageError
from tracker.reports.data import ReportData, load_report_data, reading
from tracker.reports.document import ReportDocument, check_lang, compose_report, report_day
from tracker.reports.facts import SESSION_KINDS, SessionFact
from tracker.reports.planning import DayPlan, day_plan

if TYPE_CHECKING:
    from tracker.store import Store


class NoStudyOnDay(UsageError):
    """No study session on the post's learner-day (exit 2, with the last study day named)."""


@dataclass(frozen=True)
class PostLesson:
    lesson: str | None
    concept: str
    concept_title: str
    category: str
    depth: int
    title: str
    summary: str


@dataclass(frozen=True)
class EarlierConcept:
    """A concept the learner held before the post's day, at the depth they held it."""

    concept: str
    title: str
    depth: int
    summary: str  # of the deepest lesson passed in it


@dataclass(frozen=True)
class PostDocument:
    date: date
    lang: str
    focus: PostLesson
    also_today: tuple[PostLesson, ...]
    earlier: tuple[EarlierConcept, ...]
    content: str  # the lesson's Markdown as written
    questions: tuple[str, ...]
    exercise: str | None  # the exercise skeleton, for an exercise lesson
    plan: DayPlan
    report: ReportDocument

    @property
    def title(self) -> str:
        return self.focus.concept_title

    @property
    def tags(self) -> tuple[str, ...]:
        concepts = [self.focus.concept, *(x.concept for x in self.also_today)]
        return tuple(dict.fromkeys([*concepts, self.focus.category, "AI", "learning"]))


def _lesson_files(root: Path, lesson_id: str) -> tuple[str, str, str | None]:
    """(summary, lesson.md, exercise.py or None) of one lesson folder."""
    folder = root / lesson_id
    try:
        meta = tomllib.loads((folder / "lesson.toml").read_text(encoding="utf-8"))
        content = (folder / "lesson.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CurriculumError(f"{folder}: cannot read the lesson: {exc}") from exc
    skeleton_path = folder / "exercise.py"
    skeleton = skeleton_path.read_text(encoding="utf-8") if skeleton_path.is_file() else None
    return str(meta.get("summary", "")).strip(), content, skeleton


def _summaries(root: Path, lesson_ids: set[str]) -> dict[str, str]:
    found = {}
    for lesson_id in lesson_ids:
        try:
            meta = tomllib.loads((root / lesson_id / "lesson.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        found[lesson_id] = str(meta.get("summary", "")).strip()
    return found


def _post_lesson(data: ReportData, s: SessionFact, summary: str) -> PostLesson:
    concept = data.concept(s.concept)
    lesson = data.lesson(s.lesson)
    return PostLesson(
        lesson=s.lesson,
        concept=s.concept,
        concept_title=concept.title if concept else s.concept,
        category=concept.category if concept else "",
        depth=s.depth,
        title=lesson.title if lesson else (concept.title if concept else s.concept),
        summary=summary,
    )


def no_study_message(day: date, sessions: list[SessionFact]) -> str:
    before = [s.local_date for s in sessions if s.local_date < day]
    if before:
        last = max(before).isoformat()
        return (
            f"no study session on {day.isoformat()}; the last study day before it is {last}: "
            f"tracker export post --date {last}"
        )
    return (
        f"no study session on {day.isoformat()}; nothing is recorded before it: "
        "study a lesson with `tracker learn` first"
    )


def build_post(
    source: Store | Session,
    *,
    learner_id: int,
    now: datetime,
    clock: Clock,
    lang: str = "en",
    day: date | None = None,
    sessions_per_week: int = 3,
    lessons_root: Path | None = None,
) -> PostDocument:
    """The journal post of learner-day ``day`` (default today); NoStudyOnDay without study."""
    check_lang(lang)
    day = report_day(clock, now, day)
    if lessons_root is None:
        from tracker.resources import lessons_dir

        lessons_root = lessons_dir()
    with reading(source) as session:
        data = load_report_data(session, learner_id=learner_id, clock=clock, through=day)
        counted = [s for s in data.sessions if s.kind in SESSION_KINDS]
        today = [s for s in counted if s.local_date == day]
        if not today:
            raise NoStudyOnDay(no_study_message(day, counted))
        focus_session = today[-1]  # the day's last session (oldest first)
        plan = day_plan(
            session,
            learner_id=learner_id,
            clock=clock,
            day=day,
            sessions_per_week=sessions_per_week,
            focus_lesson=focus_session.lesson,
        )
        requirements: list[tuple[str, int]] = []
        questions: tuple[str, ...] = ()
        if focus_session.lesson is not None:
            need = LessonPrerequisite.__table__.c
            requirements = [
                (c, d)
                for c, d in session.execute(
                    select(need.concept_id, need.depth)
                    .where(need.lesson_id == focus_session.lesson)
                    .order_by(need.concept_id)
                )
            ]
            raw = session.scalar(
                select(Lesson.__table__.c.questions_json).where(
                    Lesson.__table__.c.id == focus_session.lesson
                )
            )
            questions = tuple(q["prompt"] for q in json.loads(raw or "[]"))

    summary, content, skeleton = ("", "", None)
    if focus_session.lesson is not None:
        summary, content, skeleton = _lesson_files(lessons_root, focus_session.lesson)
    others = [s for s in today[:-1] if s.lesson != focus_session.lesson]
    other_summaries = _summaries(lessons_root, {s.lesson for s in others if s.lesson})
    also = tuple(
        dict.fromkeys(
            _post_lesson(data, s, other_summaries.get(s.lesson or "", "")) for s in others
        )
    )

    # What the learner held before the day: the focus lesson's prerequisites, then its concept.
    before = [p for p in data.progress if p.local_date < day]
    deepest: dict[str, tuple[int, str]] = {}
    for p in before:
        if p.concept not in deepest or p.depth > deepest[p.concept][0]:
            deepest[p.concept] = (p.depth, p.lesson)
    wanted = [c for c, _ in requirements] + [focus_session.concept]
    held = [c for c in dict.fromkeys(wanted) if c in deepest]
    earlier_summaries = _summaries(lessons_root, {deepest[c][1] for c in held})
    earlier = tuple(
        EarlierConcept(
            concept=c,
            title=(data.concept(c).title if data.concept(c) else c),
            depth=deepest[c][0],
            summary=earlier_summaries.get(deepest[c][1], ""),
        )
        for c in held
    )
    report = compose_report(
        data, day=day, now=now, clock=clock, lang=lang, sessions_per_week=sessions_per_week
    )
    return PostDocument(
        date=day,
        lang=lang,
        focus=_post_lesson(data, focus_session, summary),
        also_today=also,
        earlier=earlier,
        content=content,
        questions=questions,
        exercise=skeleton,
        plan=plan,
        report=report,
    )
