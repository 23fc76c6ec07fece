"""Reviews as text: the due list, what a rating did, an interactive session's lines.

Dates are the learner's local days (the clock that made the result is passed
in), never UTC instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tracker import hints
from tracker.render.style import PLAIN, Style
from tracker.render.table import table

if TYPE_CHECKING:
    from tracker.clock import Clock
    from tracker.ledger import RatingResult, UndoResult
    from tracker.reviews import DueCard
    from tracker.usecases.reviews import DueList, RatingChoices

PROMPT_WIDTH = 72


def _short(text: str, width: int = PROMPT_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _day(clock: Clock, instant: datetime) -> str:
    return clock.local_day(instant).isoformat()


def render_due(cards: DueList, clock: Clock, style: Style = PLAIN) -> str:
    if not cards.cards:
        return "Nothing due today."
    rows = [
        (
            str(card.card),
            _day(clock, card.due),
            card.kind,
            f"{card.concept}@{card.depth}",
            " ".join(card.prompt.split()),
        )
        for card in cards.cards
    ]
    lines = [table(("card", "due", "kind", "concept", "prompt"), rows, style)]
    questions = sum(1 for card in cards.cards if card.kind != "code")
    code = len(cards.cards) - questions
    summary = []
    if questions:
        noun = "card" if questions == 1 else "cards"
        summary.append(f"{questions} {noun} due: run `{hints.review()}`")
    if code:
        noun = "code card" if code == 1 else "code cards"
        summary.append(f"{code} {noun}: `{hints.submit('LESSON', 'FILE', review=True)}`")
    lines.append("; ".join(summary))
    return "\n".join(lines)


def describe_rating(result: RatingResult) -> str:
    days = (result.due_date - result.local_date).days
    when = "tomorrow" if days == 1 else f"in {days} days" if days > 1 else "today"
    replaced = f" (replaces today's {result.replaced})" if result.replaced else ""
    return (
        f"card {result.card_id} rated {result.rating}{replaced}: "
        f"next due {result.due_date} ({when})"
    )


def early_rating_note(result: RatingResult, clock: Clock) -> str:
    return (
        f"note: card {result.card_id} was not due until {_day(clock, result.previous_due)}; "
        "rated early"
    )


def early_review_note(card: DueCard, clock: Clock) -> str:
    return f"note: card {card.card} is not due until {_day(clock, card.due)}; reviewing early"


def card_heading(card: DueCard, number: int, total: int) -> str:
    return f"\n[{number}/{total}] {card.concept}@{card.depth} ({card.lesson}), card {card.card}"


def session_summary(rated: int, total: int, code_cards: Sequence[DueCard], left: int) -> str:
    summary = f"Rated {rated} of {total}."
    if left:
        summary += f" {left} still due: run `{hints.review()}` again."
    if code_cards:
        count = len(code_cards)
        cards = "1 code card is" if count == 1 else f"{count} code cards are"
        summary += f" {cards} reviewed with `{hints.submit('LESSON', 'FILE', review=True)}`."
    return summary


def interval_text(days: float) -> str:
    """An interval the way Anki's buttons show it: 10m, 5h, 4d, 2.1mo, 1.3y."""
    if days < 1 / 24:
        return f"{max(1, round(days * 1440))}m"
    if days < 1:
        return f"{round(days * 24)}h"
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30:.1f}mo"
    return f"{days / 365:.1f}y"


def rating_choices_line(choices: RatingChoices, style: Style = PLAIN) -> str:
    dot = " · " if style.unicode else " | "
    return dot.join(
        f"{style.bold(str(number))} {name} {interval_text(days)}"
        for number, (name, days) in enumerate(choices.days.items(), start=1)
    )


def describe_undo(result: UndoResult) -> str:
    return (
        f"undid card {result.card_id}'s {result.rating} rating of {result.local_date}; "
        f"it is due {result.due_date} again"
    )


def wrapped(label: str, text: str, width: int) -> str:
    """``label`` then ``text`` wrapped at word boundaries, continuation lines indented."""
    import textwrap

    indent = " " * len(label)
    paragraphs = text.splitlines() or [""]
    lines = []
    for number, paragraph in enumerate(paragraphs):
        first = label if number == 0 else indent
        lines += textwrap.wrap(
            paragraph,
            width=max(20, width),
            initial_indent=first,
            subsequent_indent=indent,
            break_on_hyphens=False,
        ) or [first.rstrip()]
    return "\n".join(lines)
