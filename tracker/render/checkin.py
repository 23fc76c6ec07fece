"""The check-in and plan screens as text.

Plain text (no rich: it costs more start-up time than the whole check-in may
spend), ASCII apart from what ``Style`` allows, so a piped or legacy-console
stdout never fails to encode it.
"""

from __future__ import annotations

import textwrap
from datetime import date
from typing import TYPE_CHECKING

from tracker import hints
from tracker.render.style import PLAIN, Style

if TYPE_CHECKING:
    from tracker.standing import Connection, Streak
    from tracker.usecases.checkin import (
        CheckinDocument,
        CodeCardDue,
        Focus,
        PlanDocument,
        PlanLists,
        PlannedItem,
    )

WIDTH = 100
LABEL = 14
MAX_SHOWN_CONNECTIONS = 5


def _weekday(day: date) -> str:
    return day.strftime("%a")


def _lesson_line(item: PlannedItem) -> str:
    code = "  (exercise)" if item.has_exercise else ""
    return f"{item.lesson}{code}"


def _wrapped(label: str, items: tuple[PlannedItem, ...]) -> list[str]:
    text = ", ".join(item.lesson for item in items)
    indent = " " * (2 + LABEL)
    lines = textwrap.wrap(text, width=WIDTH - len(indent), break_on_hyphens=False) or ["-"]
    first, *rest = lines
    return [f"  {label:<{LABEL}}{first}", *(indent + line for line in rest)]


def render_plan(lists: PlanLists, sessions_per_week: int, style: Style = PLAIN) -> list[str]:
    lines = [style.bold(f"Plan at {sessions_per_week} sessions a week")]
    if lists.empty:
        return [*lines, "  nothing left to plan: every lesson is passed"]
    if lists.week:
        for number, item in enumerate(lists.week):
            label = "This week" if number == 0 else ""
            when = f"{_weekday(item.date)} {item.date.isoformat()[5:]}"
            lines.append(f"  {label:<{LABEL}}{when}  {_lesson_line(item)}")
    else:
        lines.append(f"  {'This week':<{LABEL}}-")
    lines += _wrapped("This month", lists.month)
    lines += _wrapped("This quarter", lists.quarter)
    if not lists.quarter:
        lines.append(f"  {'':<{LABEL}}(then the curriculum is complete)")
    return lines


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 session``, ``2 sessions``: numbers with the noun they take."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


def render_reviews(
    due_reviews: int, code_cards: tuple[CodeCardDue, ...], style: Style = PLAIN
) -> list[str]:
    if due_reviews:
        line = f"{plural(due_reviews, 'review')} due: run `{hints.review()}` first"
    else:
        line = "none due"
    lines = [f"{style.bold('Reviews')}  {line}"]
    if code_cards:
        lines.append(f"  {plural(len(code_cards), 'code card')} due, each written again:")
        lines += [f"    {card.lesson}: {card.steps}" for card in code_cards]
    return lines


def render_done(done: tuple[PlannedItem, ...], style: Style = PLAIN) -> list[str]:
    if not done:
        return []
    lessons = ", ".join(f"{style.ok} {item.lesson}" for item in done)
    return [f"{style.bold('Done today')}  {lessons}"]


def render_focus(focus: Focus | None, style: Style = PLAIN, *, done: bool = False) -> list[str]:
    lines: list[str] = []
    if focus is None:
        lines.append(
            f"{style.bold('Today')}  every lesson is passed: nothing new to study. "
            f"Keep your reviews going with `{hints.review()}`."
        )
        return lines
    lines.append(
        f"{style.bold('Next' if done else 'Today')}  {focus.lesson}  "
        f"({focus.concept}, depth {focus.depth}: {focus.depth_label})"
    )
    if focus.title:
        lines.append(f"  {focus.title}")
    lines += textwrap.wrap(
        f"why: {focus.reason}",
        width=WIDTH,
        initial_indent="  ",
        subsequent_indent="    ",
        break_on_hyphens=False,
    )
    lead = "after your reviews" if focus.first else "next"
    lines.append(f"  {lead}: {focus.next_step}")
    return lines


def render_connections(
    items: tuple[Connection, ...], focus: Focus | None, style: Style = PLAIN
) -> list[str]:
    if focus is None:
        return []
    lines = [style.bold("Connections")]
    if not items:
        lines.append("  none yet: nothing studied on its prerequisites or its concept")
    for item in items[:MAX_SHOWN_CONNECTIONS]:
        lesson = f"  {item.lesson}" if item.lesson else ""
        lines.append(
            f"  {item.date.isoformat()}  {item.concept}@{item.depth}{lesson}  ({item.kind})"
        )
    if len(items) > MAX_SHOWN_CONNECTIONS:
        lines.append(f"  ... and {len(items) - MAX_SHOWN_CONNECTIONS} more (see --json)")
    return lines


def render_streak(streak: Streak, style: Style = PLAIN) -> str:
    text = f"streak {plural(streak.current, 'day')}"
    if streak.missed:
        dash = "—" if style.unicode else "-"
        text += f" {dash} missed {plural(streak.missed, 'day')}; best {streak.best}"
    elif streak.best > streak.current:
        text += f" (best {streak.best})"
    return text


def render_checkin(doc: CheckinDocument, style: Style = PLAIN) -> str:
    header = (
        f"{style.bold('Check-in')} {_weekday(doc.date)} {doc.date.isoformat()}  |  "
        f"{render_streak(doc.streak, style)}  |  "
        f"{plural(doc.sessions_completed, 'session')} completed  |  "
        f"{doc.lessons_passed}/{doc.lessons_total} lessons passed"
    )
    lines = [header]
    if doc.main_path:
        steps = " -> ".join(f"{s.lesson}{' [x]' if s.passed else ''}" for s in doc.main_path)
        lines.append(f"{style.bold('Main path')}  {steps}")
    lines.append("")
    lines += render_reviews(doc.due_reviews, doc.due_code_cards, style)
    lines.append("")
    done = render_done(doc.done_today, style)
    lines += done
    lines += render_focus(doc.focus, style, done=bool(done))
    connections = render_connections(doc.connections, doc.focus, style)
    if connections:
        lines += ["", *connections]
    lines += ["", *render_plan(doc.plan, doc.sessions_per_week, style)]
    return "\n".join(lines)


def render_plan_document(doc: PlanDocument, style: Style = PLAIN) -> str:
    lines = [f"{style.bold('Plan')} from {_weekday(doc.date)} {doc.date.isoformat()}"]
    if doc.focus is not None:
        lines.append(f"  next: {doc.focus.lesson}: {doc.focus.reason}")
    lines += ["", *render_plan(doc.plan, doc.sessions_per_week, style)]
    return "\n".join(lines)
