"""The history timeline as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.render.style import PLAIN, Style
from tracker.render.table import table

if TYPE_CHECKING:
    from tracker.history import HistoryEvent
    from tracker.usecases.history import History


def _detail(event: HistoryEvent) -> str:
    if event.kind == "review":
        return f"rated {event.rating} (card {event.card}){_title(event)}"
    if event.note:
        return f"{event.note}{_title(event)}"
    return event.title or ""


def _title(event: HistoryEvent) -> str:
    return f": {event.title}" if event.title else ""


def render_history(history: History, style: Style = PLAIN) -> str:
    if not history.events:
        return "Nothing yet: start with `tracker checkin`."
    rows = [
        (
            e.date.isoformat(),
            e.kind,
            f"{e.concept}@{e.depth}" if e.concept else "",
            e.lesson or "",
            _detail(e),
        )
        for e in history.events
    ]
    return table(("date", "kind", "concept", "lesson", "what"), rows, style)
