"""Spaced-repetition commands: due, review, optimize.

``due`` is a daily read command: plain SQL, no fsrs. ``review`` imports the
scheduler only when it rates; ``optimize`` is the only command that loads torch.
Each rating is committed on its own, so quitting a session keeps what was rated.
"""

from __future__ import annotations

import time

import click

from tracker.cli.common import emit_json, get_store

RATING_HELP = "again, hard, good, easy (or 1-4)"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--limit", type=click.IntRange(1, 2**63 - 1), default=None, help="Only the first N cards."
)
@click.pass_context
def due(ctx: click.Context, as_json: bool, limit: int | None) -> None:
    """List review cards due by the end of today (your day boundary), oldest first.

    \b
    Example:
        tracker due --json
    """
    from tracker.render.reviews import render_due
    from tracker.usecases.reviews import due as due_cards

    store = get_store(ctx)
    cards = due_cards(store, learner_id=store.learner_id, now=store.now(), limit=limit)
    if as_json:
        emit_json(cards.as_dict())
        return
    click.echo(render_due(cards, store.clock))


INTERRUPTED_AT_PROMPT = "Interrupted: every rating so far is saved."


class _Quit(Exception):
    """The learner typed q, the input ended, or Ctrl-C at a prompt (``interrupted``)."""

    def __init__(self, *, interrupted: bool = False) -> None:
        super().__init__()
        self.interrupted = interrupted


def _ask(text: str) -> str:
    from tracker import interrupt

    prompt = interrupt.prompting()  # Ctrl-C here ends the session, not the process
    try:
        with prompt:
            answer = click.prompt(text, default="", show_default=False, prompt_suffix=" ")
    except (click.Abort, KeyboardInterrupt):  # end of input or Ctrl-C: stop, keeping what was rated
        click.echo()
        raise _Quit(interrupted=prompt.interrupted) from None
    if answer.strip().lower() in {"q", "quit"}:
        raise _Quit
    return answer


def _ask_rating() -> int:
    from tracker.errors import InvalidRating
    from tracker.reviews import parse_rating

    while True:
        answer = _ask("Rate it: 1 again, 2 hard, 3 good, 4 easy (q quits):")
        try:
            return parse_rating(answer)
        except InvalidRating as exc:
            click.echo(str(exc))


def _session(store, queue) -> None:  # noqa: ANN001 - Store, ReviewQueue
    """The interactive loop: show, reveal, rate (one write per rating), until done or q."""
    from tracker.render.reviews import card_heading, describe_rating, session_summary
    from tracker.usecases.reviews import rate

    rated = 0
    cards = queue.cards
    shown_code = []
    interrupted = False
    try:
        for number, card in enumerate(cards, start=1):
            click.echo(card_heading(card, number, len(cards)))
            if card.kind == "code":
                click.echo(f"  {card.prompt}\n  {card.answer}")
                shown_code.append(card)
                continue
            click.echo(f"Q: {card.prompt}")
            started = time.monotonic()
            _ask("Press Enter to show the answer (q quits):")
            click.echo(f"A: {card.answer}")
            rating = _ask_rating()
            duration_ms = int((time.monotonic() - started) * 1000)
            result = rate(
                store,
                learner_id=store.learner_id,
                now=store.now(),
                card_id=card.card,
                rating=rating,
                duration_ms=duration_ms,
            )
            rated += 1
            click.echo(f"  {describe_rating(result)}")
    except _Quit as stop:
        click.echo("Stopped; every rating so far is saved.")
        interrupted = stop.interrupted
    left = len(cards) - rated - len(shown_code)
    click.echo(session_summary(rated, len(cards), shown_code, left))
    if interrupted:
        click.echo(INTERRUPTED_AT_PROMPT, err=True)
        from tracker.interrupt import INTERRUPTED

        raise click.exceptions.Exit(INTERRUPTED)


@click.command()
@click.argument("card_id", metavar="[CARD]", type=click.IntRange(1, 2**63 - 1), required=False)
@click.option("--rating", "-r", metavar="RATING", default=None, help=f"Rate CARD: {RATING_HELP}.")
@click.option("--json", "as_json", is_flag=True, help="With --rating: print the result as JSON.")
@click.pass_context
def review(ctx: click.Context, card_id: int | None, rating: str | None, as_json: bool) -> None:
    """Review due cards in the terminal, or rate one card with --rating.

    Enter reveals the answer; rate 1-4 or again/hard/good/easy; q quits, keeping
    what was rated. A card not due yet can be rated; you are told it is early.

    \b
    Examples:
        tracker review
        tracker review 42 --rating good
    """
    from tracker.render.reviews import describe_rating, early_rating_note, early_review_note
    from tracker.reviews import parse_rating
    from tracker.usecases.reviews import rate, review_queue

    if rating is not None:
        if card_id is None:
            raise click.UsageError("--rating needs a CARD: tracker review CARD --rating good")
        parse_rating(rating)  # refuse a bad rating before opening the database
        store = get_store(ctx)
        result = rate(
            store, learner_id=store.learner_id, now=store.now(), card_id=card_id, rating=rating
        )
        if as_json:
            emit_json(result.as_dict())
        else:
            click.echo(describe_rating(result))
        if result.early:
            click.echo(early_rating_note(result, store.clock), err=True)
        return
    if as_json:
        raise click.UsageError("--json needs --rating: the interactive session prints text")
    store = get_store(ctx)
    queue = review_queue(store, learner_id=store.learner_id, now=store.now(), card_id=card_id)
    if not queue.cards:
        click.echo("Nothing due today.")
        return
    if queue.early is not None:
        click.echo(early_review_note(queue.early, store.clock), err=True)
    _session(store, queue)


@click.command()
@click.option("--dry-run", is_flag=True, help="Fit and show the result, store nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def optimize(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Fit your FSRS parameters to your review history (needs 512+ reviews on distinct days).

    Exit 1 when there are too few reviews. Parameters are stored only when
    they predict your recall better (lower log loss) than the current ones.

    \b
    Example:
        tracker optimize --dry-run
    """
    from tracker.render.optimize import render_optimize
    from tracker.usecases.optimize import optimize as fit

    store = get_store(ctx)
    outcome = fit(store, learner_id=store.learner_id, now=store.now(), dry_run=dry_run)
    if as_json:
        emit_json(outcome.as_dict())
        return
    click.echo(render_optimize(outcome))
