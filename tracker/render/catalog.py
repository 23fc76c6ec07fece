"""The curriculum as tables: concepts with their depth bars, lessons with their status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.render.style import PLAIN, Style
from tracker.render.table import table

if TYPE_CHECKING:
    from tracker.usecases.catalog import ConceptList, LessonList

LEGEND = "depth: # reached, . still to go to the concept's target (mastered when all #)"


def depth_bar(depth: int, target_depth: int) -> str:
    """``#`` per depth reached, ``.`` per depth still to go to the target."""
    return "#" * depth + "." * max(target_depth - depth, 0)


def render_concepts(concepts: ConceptList, style: Style = PLAIN) -> str:
    rows = [
        (r.id, r.category, depth_bar(r.depth, r.target_depth), r.status, r.title)
        for r in concepts.rows
    ]
    body = table(("concept", "category", "depth", "status", "title"), rows, style)
    return f"{body}\n\n{LEGEND}"


def render_lessons(lessons: LessonList, style: Style = PLAIN) -> str:
    rows = []
    for r in lessons.rows:
        needs = ", ".join(f"{c}@{d}" for c, d in r.requires) or "-"
        code = "code" if r.has_exercise else ""
        status = style.paint(r.status, {"passed": "green", "locked": "dim"}.get(r.status, "bold"))
        rows.append((r.id, status, code, needs, r.title))
    return table(("lesson", "status", "", "needs", "title"), rows, style)
