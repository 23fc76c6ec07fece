"""Reviews as text: the due list, what a rating did, an interactive session's lines.

Dates are the learner's local days (the clock that made the result is passed
in), never UTC instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tracker import hints

if TYPE_CHECKING:
    from tracker.clock import Clock
    from tracker.ledger import RatingResult
    from tracker.reviews import DueCard
    from tracker.usecases.reviews import DueList

PROMPT_WIDTH = 72


def _short(text: str, width: int = PROMPT_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _day(clock: Clock, instant: datetime) -> str:
    return clock.local_day(instant).isoformat()


def render_due(cards: DueList, clock: Clock) -> str:
    if not cards.cards:
        return "Nothing due today."
    lines = []
    for card in cards.cards:
        what = f"{card.concept}@{card.depth}"
        lines.append(f"{card.card:>6}  {_day(clock, card.due)}  {what:<30}  {_short(card.prompt)}")
    noun = "card" if len(cards.cards) == 1 else "cards"
    lines.append(f"{len(cards.cards)} {noun} due: run `{hints.review()}`")
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
    if code_cards:
        summary += (
            f" {len(code_cards)} code card(s) are reviewed with "
            f"`{hints.submit('LESSON', 'FILE', review=True)}`."
        )
    if left:
        summary += f" {left} still due: run `{hints.review()}` again."
    return summary
