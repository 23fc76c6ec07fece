"""Spaced-repetition commands: due, review, optimize.

``due`` is a daily read command: plain SQL, no fsrs. ``review`` imports the
scheduler only when it rates; ``optimize`` is the only command that loads torch.
Each rating is committed on its own, so quitting a session keeps what was rated.
"""

from __future__ import annotations

import click

from tracker.cli.common import LIMIT, emit_json, get_store, style

RATING_HELP = "again, hard, good, easy (or 1-4)"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", type=LIMIT, default=None, help="Only the first N cards.")
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
    click.echo(render_due(cards, store.clock, style(ctx)))


@click.command()
@click.argument("card_id", metavar="[CARD]", type=click.IntRange(1, 2**63 - 1), required=False)
@click.option("--rating", "-r", metavar="RATING", default=None, help=f"Rate CARD: {RATING_HELP}.")
@click.option("--json", "as_json", is_flag=True, help="With --rating or --undo: print JSON.")
@click.option("--undo", is_flag=True, help="Take back your last rating (of CARD when given).")
@click.pass_context
def review(
    ctx: click.Context, card_id: int | None, rating: str | None, as_json: bool, undo: bool
) -> None:
    """Review due cards in the terminal, or rate one card with --rating.

    Space or Enter reveals the answer; rate with one key, 1-4 (Enter or space:
    good), each choice showing its next interval; u takes the last rating back;
    q quits, keeping what was rated. A card not due yet can be rated; you are
    told it is early. Rating a card again the same day replaces that day's rating.

    \b
    Examples:
        tracker review
        tracker review 42 --rating good
        tracker review --undo
    """
    from tracker.render.reviews import describe_rating, early_rating_note, early_review_note
    from tracker.reviews import parse_rating
    from tracker.usecases.reviews import rate, review_queue

    if undo:
        return _undo(ctx, card_id, as_json)
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
    from tracker.cli.review_session import run_session

    run_session(store, queue, style(ctx))


def _undo(ctx: click.Context, card_id: int | None, as_json: bool) -> None:
    from tracker.render.reviews import describe_undo
    from tracker.usecases.reviews import undo

    store = get_store(ctx)
    result = undo(store, learner_id=store.learner_id, now=store.now(), card_id=card_id)
    if as_json:
        emit_json(result.as_dict())
    else:
        click.echo(describe_undo(result))


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
