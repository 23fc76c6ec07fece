"""Lesson ids as they are on disk, for "no lesson X; did you mean Y?".

Standard library only: it runs on the error path of commands that never load
the curriculum (a cold ``submit`` checks its lesson before anything else).
"""

from __future__ import annotations

from tracker import hints
from tracker.errors import LessonNotFound


def lesson_ids() -> list[str]:
    from tracker.resources import lessons_dir

    try:
        return sorted(p.parent.name for p in lessons_dir().glob("*/lesson.toml"))
    except OSError:
        return []


def unknown_lesson(lesson_id: str) -> LessonNotFound:
    """The error for an unknown lesson id, with the id the learner most likely meant."""
    best = hints.closest(lesson_id, lesson_ids())
    if best is not None:
        return LessonNotFound(f"no lesson {lesson_id!r}; did you mean {best}?")
    return LessonNotFound(f"no lesson {lesson_id!r}; see `tracker lessons`")
