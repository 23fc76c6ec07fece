"""The interactive review: show, reveal, rate with one key, undo, until done or q.

Only the question cards `review` can rate are counted in ``[n/N]``; code cards
due are listed at the end with the commands that review them, and the session
offers to write each one's blank skeleton. Every rating is its own write
(``usecases.reviews.rate``), so quitting, Ctrl-C or the end of input keep what
was rated; ``u`` takes the last rating of the session back through the
ledger's audited path and shows that card again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from tracker.cli.keys import Keys, yes_no
from tracker.render.reviews import (
    card_heading,
    describe_rating,
    describe_undo,
    rating_choices_line,
    session_summary,
    wrapped,
)
from tracker.render.style import Style
from tracker.render.table import terminal_width

QUIT, UNDO = {"q", "quit"}, {"u", "undo"}
GOOD_KEYS = {"", " ", "\n", "\r"}
REVEAL = "Show the answer: space or Enter (u undo, q quit)"
RATE = "Rate 1-4 (space or Enter: good)"


INTERRUPTED_AT_PROMPT = "Interrupted: every rating so far is saved."


class _Stop(Exception):
    """The learner quit, the input ended, or Ctrl-C at a prompt (``interrupted``)."""

    def __init__(self, *, interrupted: bool = False) -> None:
        super().__init__()
        self.interrupted = interrupted


def _answer(keys: Keys, prompt: str) -> str:
    try:
        answer = keys.ask(prompt)
    except EOFError:
        raise _Stop from None
    except KeyboardInterrupt:  # only at a prompt (tracker.interrupt.prompting)
        raise _Stop(interrupted=True) from None
    if answer.strip().lower() in QUIT:
        raise _Stop
    return answer


def _rating(keys: Keys) -> int | str:
    """1-4 (Enter or space: 3), or "u" to undo."""
    from tracker.errors import InvalidRating
    from tracker.reviews import parse_rating

    while True:
        answer = _answer(keys, RATE)
        if answer in GOOD_KEYS:
            return 3
        if answer.strip().lower() in UNDO:
            return "u"
        try:
            return parse_rating(answer)
        except InvalidRating as exc:
            click.echo(str(exc))


def run_session(store: Any, queue: Any, style: Style, keys: Keys | None = None) -> None:  # noqa: ANN401
    """Review ``queue``'s cards; ``store`` and ``queue`` as the review command made them."""
    from tracker.usecases.reviews import rate, rating_choices, undo

    keys = keys or Keys()
    with keys.keypresses():
        _run(store, queue, style, keys, rate, rating_choices, undo)


def _run(store: Any, queue: Any, style: Style, keys: Keys, rate, rating_choices, undo) -> None:  # noqa: ANN001, ANN401
    width = terminal_width()
    cards = list(queue.ratable)
    rated: list[Any] = []  # the cards rated in this session, for undo
    position = 0
    try:
        while position < len(cards):
            card = cards[position]
            click.echo(card_heading(card, position + 1, len(cards)))
            click.echo(wrapped("Q: ", card.prompt, width))
            started = time.monotonic()
            if _answer(keys, REVEAL).strip().lower() in UNDO:
                position = _undo(store, rated, cards, position, undo)
                continue
            click.echo(wrapped("A: ", card.answer, width))
            now = store.now()
            choices = rating_choices(store, learner_id=store.learner_id, now=now, card_id=card.card)
            click.echo(f"  {rating_choices_line(choices, style)}")
            rating = _rating(keys)
            if rating == "u":
                position = _undo(store, rated, cards, position, undo)
                continue
            result = rate(
                store,
                learner_id=store.learner_id,
                now=store.now(),
                card_id=card.card,
                rating=rating,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
            rated.append(card)
            position += 1
            click.echo(f"  {describe_rating(result)}")
    except _Stop as stop:
        click.echo("Stopped; every rating so far is saved.")
        interrupted = stop.interrupted
    else:
        interrupted = False
    left = len(cards) - len(rated)
    if not interrupted:
        _code_cards(queue.code_cards, keys)
    click.echo(session_summary(len(rated), len(cards), queue.code_cards, left))
    if interrupted:
        from tracker import interrupt

        click.echo(INTERRUPTED_AT_PROMPT, err=True)
        raise click.exceptions.Exit(interrupt.INTERRUPTED)


def _undo(store: Any, rated: list[Any], cards: list[Any], position: int, undo: Any) -> int:  # noqa: ANN401
    """Take the session's last rating back; that card comes up again. The new position."""
    if not rated:
        click.echo("  nothing to undo in this session yet")
        return position
    card = rated.pop()
    result = undo(store, learner_id=store.learner_id, now=store.now(), card_id=card.card)
    click.echo(f"  {describe_undo(result)}")
    index = cards.index(card)
    return index if index < position else position


def _code_cards(code_cards: tuple[Any, ...], keys: Keys) -> None:
    """List the code cards due, and offer each one's blank skeleton."""
    from tracker import hints
    from tracker.errors import TrackerError
    from tracker.usecases.catalog import exercise_skeleton

    if not code_cards:
        return
    click.echo(f"\nCode cards due ({len(code_cards)}): write the exercise again from a blank file.")
    for card in code_cards:
        click.echo(f"  {card.lesson}: {hints.code_card_steps(card.lesson)}")
        target = Path(f"{card.lesson}.py")
        try:
            write = yes_no(keys, f"  Write the blank skeleton to {target}?", default=False)
        except (EOFError, KeyboardInterrupt):
            return
        if not write:
            continue
        try:
            skeleton = exercise_skeleton(card.lesson, target)
        except TrackerError as exc:
            click.echo(f"  {exc}")
            continue
        click.echo(f"  wrote {target}; when it is done: {skeleton.next_step} --review")
