"""Frozen dataclasses for lesson data as it is on disk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tracker.rules import Requirement


@dataclass(frozen=True)
class Question:
    prompt: str
    answer: str


@dataclass(frozen=True)
class Exercise:
    """The code a learner writes: ``entry`` is the function or class their file must define."""

    entry: str
    kind: str  # function | module
    # Calls that defeat the lesson's purpose (tracker.validation.forbidden), and what to do instead.
    forbidden_calls: tuple[str, ...] = ()
    forbidden_advice: str = ""


@dataclass(frozen=True)
class LessonSpec:
    id: str
    concept: str
    depth: int
    title: str
    summary: str
    requires: tuple[Requirement, ...]
    questions: tuple[Question, ...]
    exercise: Exercise | None
    folder: Path
    content: str

    @property
    def has_exercise(self) -> bool:
        return self.exercise is not None


def name_key(name: str) -> str:
    """How a concept's names compare: case, spaces, hyphens and dots do not count."""
    return re.sub(r"[\s\-_.·/]+", "", name.casefold())


@dataclass(frozen=True)
class ConceptSpec:
    id: str
    title: str
    category: str
    target_depth: int
    position: int
    aliases: tuple[str, ...] = ()  # other names learners use (English, Korean ...)

    def names(self) -> tuple[str, ...]:
        return (self.id, self.title, *self.aliases)


@dataclass(frozen=True)
class Curriculum:
    categories: dict[str, str]  # id -> title, in display order
    concepts: dict[str, ConceptSpec]  # in display order
    lessons: dict[str, LessonSpec]  # ordered by concept position, then depth
    main_path: tuple[str, ...]  # lesson ids
    fingerprint: str

    def lessons_of(self, concept: str) -> list[LessonSpec]:
        return [lesson for lesson in self.lessons.values() if lesson.concept == concept]

    def concept_requirements(self, concept: str) -> tuple[Requirement, ...]:
        """A concept's prerequisites are those of its first (shallowest) lesson."""
        lessons = sorted(self.lessons_of(concept), key=lambda lesson: lesson.depth)
        return lessons[0].requires if lessons else ()
