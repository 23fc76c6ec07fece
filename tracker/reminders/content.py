"""What a reminder says, from plain values: one pure function per kind.

A reminder is worth sending only when there is something to do: the daily
one lists the reviews due today (question cards, which `tracker review`
rates, and code cards apart, each with its command), today's focus and why,
and the streak; a learner who has checked in and has nothing due gets none.
The evening "streak at risk" one goes out only while a streak of two days or
more would end tonight. Nothing here reads the database or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker import hints

KINDS = ("daily", "streak")
MIN_STREAK_AT_RISK = 2


@dataclass(frozen=True)
class CodeCard:
    """A code card due: written again from a blank file and submitted for review."""

    card: int
    lesson: str
    title: str

    @property
    def command(self) -> str:
        return hints.submit(self.lesson, review=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": self.card,
            "lesson": self.lesson,
            "title": self.title,
            "command": self.command,
        }


@dataclass(frozen=True)
class FocusFacts:
    """Today's lesson and the planner's reason for it (the check-in's focus)."""

    lesson: str
    concept: str
    depth: int
    title: str
    reason: str
    next_step: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "concept": self.concept,
            "depth": self.depth,
            "title": self.title,
            "reason": self.reason,
            "next_step": self.next_step,
        }


@dataclass(frozen=True)
class ReminderFacts:
    """Where the learner stands on one learner-day, as a reminder needs it."""

    date: date
    due_reviews: int  # question cards due by the end of the day
    code_cards: tuple[CodeCard, ...]
    focus: FocusFacts | None
    streak_days: int  # consecutive active days ending today (0: nothing yet today)
    streak_before_today: int  # consecutive active days ending yesterday
    checked_in_today: bool

    @property
    def active_today(self) -> bool:
        return self.streak_days > 0

    @property
    def nothing_due(self) -> bool:
        return self.due_reviews == 0 and not self.code_cards


@dataclass(frozen=True)
class Reminder:
    """One reminder as every channel sends it: a subject line and a plain-text body."""

    kind: str
    date: date
    subject: str
    lines: tuple[str, ...]
    facts: ReminderFacts

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def as_dict(self) -> dict[str, Any]:
        facts = self.facts
        return {
            "kind": self.kind,
            "date": self.date.isoformat(),
            "subject": self.subject,
            "text": self.text,
            "due_reviews": facts.due_reviews,
            "due_code_cards": [card.as_dict() for card in facts.code_cards],
            "focus": facts.focus.as_dict() if facts.focus else None,
            "streak_days": facts.streak_days,
            "checked_in_today": facts.checked_in_today,
        }


def build_reminder(kind: str, facts: ReminderFacts) -> Reminder | None:
    """The reminder of ``kind`` for these facts, or None when there is nothing to say."""
    if kind == "daily":
        return daily_reminder(facts)
    if kind == "streak":
        return streak_reminder(facts)
    raise ValueError(f"unknown reminder kind {kind!r}")


def why_nothing(kind: str, facts: ReminderFacts) -> str:
    """Why ``build_reminder`` said nothing: recorded as the skipped delivery's note."""
    if kind == "daily":
        return "nothing to do: checked in and no reviews due"
    if facts.active_today:
        return "streak safe: already active today"
    return f"no streak at risk ({_plural(facts.streak_before_today, 'day')} before today)"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _review_lines(facts: ReminderFacts) -> list[str]:
    lines = []
    if facts.due_reviews:
        lines.append(
            f"Reviews due today: {_plural(facts.due_reviews, 'card')}: run `{hints.review()}`"
        )
    if facts.code_cards:
        lines.append(
            f"Code cards due ({len(facts.code_cards)}): write each again from a blank file, then"
        )
        lines += [f"  - {card.title}: `{card.command}`" for card in facts.code_cards]
    return lines


def _focus_lines(focus: FocusFacts | None) -> list[str]:
    if focus is None:
        return ["Today's focus: none left: every lesson on your path is passed"]
    return [
        f"Today's focus: {focus.title} ({focus.lesson}, depth {focus.depth})",
        f"  why: {focus.reason}",
        f"  then: {focus.next_step}",
    ]


def _streak_line(facts: ReminderFacts) -> str:
    if facts.checked_in_today:
        return f"Streak: {_plural(facts.streak_days, 'day')}; checked in today"
    if facts.active_today:
        return f"Streak: {_plural(facts.streak_days, 'day')}; not checked in yet today"
    run = facts.streak_before_today
    kept = f"{_plural(run, 'day')} so far" if run else "none yet"
    return f"Streak: {kept}; not checked in yet today: run `{hints.checkin()}`"


def daily_reminder(facts: ReminderFacts) -> Reminder | None:
    """The morning reminder; None for a learner who checked in and has nothing due."""
    if facts.checked_in_today and facts.nothing_due:
        return None
    parts = []
    if facts.due_reviews:
        parts.append(_plural(facts.due_reviews, "review"))
    if facts.code_cards:
        parts.append(_plural(len(facts.code_cards), "code card"))
    if not parts and not facts.checked_in_today:
        parts.append("time to check in")
    subject = "tracker: " + ", ".join(parts)
    if facts.focus is not None:
        subject += f"; today: {facts.focus.lesson}"
    lines = [f"tracker, {facts.date:%A %Y-%m-%d}", *_review_lines(facts)]
    lines += _focus_lines(facts.focus)
    lines.append(_streak_line(facts))
    return Reminder("daily", facts.date, subject, tuple(lines), facts)


def streak_reminder(facts: ReminderFacts) -> Reminder | None:
    """The evening reminder while a streak of two days or more would end tonight."""
    if facts.active_today or facts.checked_in_today:
        return None
    run = facts.streak_before_today
    if run < MIN_STREAK_AT_RISK:
        return None
    subject = f"tracker: your {run}-day streak ends tonight"
    lines = [
        f"tracker, {facts.date:%A %Y-%m-%d}",
        f"Your {run}-day streak ends tonight unless you check in: run `{hints.checkin()}`",
        *_review_lines(facts),
    ]
    if facts.focus is not None:
        lines.append(f"Today's focus: {facts.focus.title} ({facts.focus.lesson})")
    return Reminder("streak", facts.date, subject, tuple(lines), facts)
