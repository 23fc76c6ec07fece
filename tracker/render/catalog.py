"""The curriculum as tables: concepts with their depth bars, lessons with their status."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.usecases.catalog import ConceptList, LessonList


def depth_bar(depth: int, target_depth: int) -> str:
    """``#`` per depth reached, ``.`` per depth still to go to the target."""
    return "#" * depth + "." * max(target_depth - depth, 0)


def render_concepts(concepts: ConceptList) -> str:
    rows = concepts.rows
    width = max((len(r.id) for r in rows), default=0)
    return "\n".join(
        f"{r.id:<{width}}  {r.category:<12}  {depth_bar(r.depth, r.target_depth)}  {r.status}"
        for r in rows
    )


def render_lessons(lessons: LessonList) -> str:
    rows = lessons.rows
    width = max((len(r.id) for r in rows), default=0)
    lines = []
    for r in rows:
        needs = ", ".join(f"{c}@{d}" for c, d in r.requires) or "-"
        code = "code" if r.has_exercise else "    "
        lines.append(f"{r.id:<{width}}  {r.status:<9}  {code}  needs {needs}")
    return "\n".join(lines)
