"""The curriculum as a learner browses it: concepts, lessons, one lesson, its skeleton.

Status comes from ``tracker.rules`` (passed / available / locked; not-started /
in-progress / mastered), the same rule the planner and the check-in apply.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tracker import hints
from tracker.curriculum.model import LessonSpec
from tracker.curriculum.names import unknown_lesson
from tracker.db.models import Concept, Lesson
from tracker.errors import UsageError
from tracker.rules import concept_status, lesson_status
from tracker.standing import concept_depths, load_graph, read_main_path
from tracker.store import Store


@dataclass(frozen=True)
class InitReport:
    location: str
    concepts: int
    lessons: int

    def as_dict(self) -> dict[str, Any]:
        return {"location": self.location, "concepts": self.concepts, "lessons": self.lessons}


def init(store: Store) -> InitReport:
    """The database is ready (opening the store created, upgraded and synced it)."""
    with store.read() as session:
        concepts = session.scalar(
            select(func.count()).select_from(Concept).where(Concept.retired.is_(False))
        )
        lessons = session.scalar(
            select(func.count()).select_from(Lesson).where(Lesson.retired.is_(False))
        )
    return InitReport(store.location.describe(), concepts or 0, lessons or 0)


@dataclass(frozen=True)
class ConceptRow:
    id: str
    title: str
    category: str
    depth: int
    target_depth: int

    @property
    def status(self) -> str:
        return concept_status(self.depth, self.target_depth)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "depth": self.depth,
            "target_depth": self.target_depth,
            "status": self.status,
        }


@dataclass(frozen=True)
class ConceptList:
    rows: tuple[ConceptRow, ...]

    def as_dict(self) -> list[dict[str, Any]]:
        return [row.as_dict() for row in self.rows]


def concepts(store: Store, *, learner_id: int) -> ConceptList:
    concept = Concept.__table__.c
    with store.read() as session:
        depths = concept_depths(session, learner_id=learner_id)
        rows = session.execute(
            select(concept.id, concept.title, concept.category, concept.target_depth)
            .where(concept.retired.is_(False))
            .order_by(concept.position)
        )
        return ConceptList(
            tuple(
                ConceptRow(cid, title, category, depths.get(cid, 0), target)
                for cid, title, category, target in rows
            )
        )


@dataclass(frozen=True)
class LessonRow:
    id: str
    concept: str
    depth: int
    title: str
    requires: tuple[tuple[str, int], ...]  # (concept, depth)
    has_exercise: bool
    status: str  # passed | available | locked

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "concept": self.concept,
            "depth": self.depth,
            "title": self.title,
            "requires": [{"concept": c, "depth": d} for c, d in self.requires],
            "has_exercise": self.has_exercise,
            "status": self.status,
        }


@dataclass(frozen=True)
class LessonList:
    rows: tuple[LessonRow, ...]

    def as_dict(self) -> list[dict[str, Any]]:
        return [row.as_dict() for row in self.rows]


def lessons(store: Store, *, learner_id: int) -> LessonList:
    from tracker.standing import passed_lesson_ids

    with store.read() as session:
        graph = load_graph(session, main_path=read_main_path())
        depths = concept_depths(session, learner_id=learner_id)
        passed = passed_lesson_ids(session, learner_id=learner_id)
    return LessonList(
        tuple(
            LessonRow(
                id=node.id,
                concept=node.concept,
                depth=node.depth,
                title=node.title,
                requires=tuple((r.concept, r.depth) for r in node.requires),
                has_exercise=node.has_exercise,
                status=lesson_status(node.id, node.requires, passed=passed, depths=depths),
            )
            for node in graph.lessons
        )
    )


@dataclass(frozen=True)
class LessonDetail:
    """``lesson show --json``: a lesson's text and questions, as on disk."""

    spec: LessonSpec

    def as_dict(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "id": spec.id,
            "concept": spec.concept,
            "depth": spec.depth,
            "title": spec.title,
            "summary": spec.summary,
            "requires": [{"concept": r.concept, "depth": r.depth} for r in spec.requires],
            "has_exercise": spec.has_exercise,
            "content": spec.content,
            "questions": [q.prompt for q in spec.questions],
        }


def lesson_spec(lesson_id: str) -> LessonSpec:
    from tracker.curriculum.loader import load_curriculum

    spec = load_curriculum().lessons.get(lesson_id)
    if spec is None:
        raise unknown_lesson(lesson_id)
    return spec


def lesson_detail(lesson_id: str) -> LessonDetail:
    return LessonDetail(lesson_spec(lesson_id))


@dataclass(frozen=True)
class Skeleton:
    lesson: str
    text: str
    written_to: Path | None = None

    @property
    def next_step(self) -> str:
        return hints.submit(self.lesson, str(self.written_to or "FILE"))


def exercise_skeleton(
    lesson_id: str, output: Path | None = None, *, force: bool = False
) -> Skeleton:
    """The exercise skeleton; written to ``output`` if given (never over a file unless force)."""
    spec = lesson_spec(lesson_id)
    if spec.exercise is None:
        raise UsageError(f"lesson {lesson_id!r} has no exercise")
    text = (spec.folder / "exercise.py").read_text(encoding="utf-8")
    if output is None:
        return Skeleton(lesson_id, text)
    from tracker.paths import os_problem, user_path

    target = user_path(str(output), what="-o")
    try:
        # O_EXCL: a file that appears meanwhile is not overwritten either.
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_TRUNC if force else os.O_EXCL)
        fd = os.open(target, flags, 0o644)
    except FileExistsError:
        raise UsageError(f"{output} already exists; use --force to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {os_problem(exc)}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Skeleton(lesson_id, text, output)
