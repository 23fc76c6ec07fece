"""`tracker status` as one line for a shell prompt or a status bar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.render.style import PLAIN, Style

if TYPE_CHECKING:
    from tracker.usecases.status import StatusDocument


def render_status(doc: StatusDocument, style: Style = PLAIN) -> str:
    dot = " · " if style.unicode else " | "
    parts = [f"{doc.due_reviews} due" if doc.due_reviews else "nothing due"]
    if doc.due_code_cards:
        parts.append(f"{doc.due_code_cards} code card{'s' if doc.due_code_cards > 1 else ''}")
    streak = f"streak {doc.streak_days}"
    if not doc.checked_in_today:
        streak += " (not checked in today)"
    parts.append(streak)
    parts.append(f"today: {doc.focus[0]}" if doc.focus else "every lesson passed")
    return dot.join(parts)
