"""The history timeline as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.usecases.history import History


def render_history(history: History) -> str:
    if not history.events:
        return "Nothing yet: start with `tracker checkin`."
    lines = []
    for e in history.events:
        what = f"{e.concept}@{e.depth} ({e.lesson})" if e.concept else ""
        lines.append(f"{e.date.isoformat()}  {e.kind:<10}  {what}".rstrip())
    return "\n".join(lines)
