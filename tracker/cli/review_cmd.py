"""Spaced-repetition commands: due, review, optimize.

``due`` is a daily read command: plain SQL, no fsrs. ``review`` imports the
scheduler only when it rates; ``optimize`` is the only command that loads torch.
Each rating is committed on its own, so quitting a session keeps what was rated.
"""

from __future__ import annotations

import time
from datetime import datetime

import click

from tracker.cli.common import emit_json, get_store

RATING_HELP = "again, hard, good, easy (or 1-4)"


def _local_date(store, instant: datetime) -> str:  # noqa: ANN001 - Store
    return store.clock.local_day(instant).isoformat()


def _short(text: str, width: int = 72) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


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
    from tracker.due import due_until
    from tracker.reviews import list_due

    store = get_store(ctx)
    now = store.now()
    with store.read() as session:
        cards = list_due(
            session, learner_id=store.learner_id, until=due_until(store.clock, now), limit=limit
        )
    if as_json:
        emit_json([card.as_dict() for card in cards])
        return
    if not cards:
        click.echo("Nothing due today.")
        return
    for card in cards:
        what = f"{card.concept}@{card.depth}"
        click.echo(
            f"{card.card:>6}  {_local_date(store, card.due)}  {what:<30}  {_short(card.prompt)}"
        )
    noun = "card" if len(cards) == 1 else "cards"
    click.echo(f"{len(cards)} {noun} due: run `tracker review`")


class _Quit(Exception):
    """The learner typed q, or the input ended."""


def _ask(text: str) -> str:
    try:
        answer = click.prompt(text, default="", show_default=False, prompt_suffix=" ")
    except click.Abort:  # end of input or Ctrl-C: stop, keeping what was rated
        click.echo()
        raise _Quit from None
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


def _rate(store, card_id: int, rating: int | str, duration_ms: int | None = None):  # noqa: ANN001, ANN202
    from tracker.reviews import rate_card

    with store.write() as session:
        return rate_card(
            session,
            learner_id=store.learner_id,
            card_id=card_id,
            rating=rating,
            now=store.now(),
            settings=store.settings,
            duration_ms=duration_ms,
        )


def _describe(store, result) -> str:  # noqa: ANN001
    days = (store.clock.local_day(result.due) - result.local_date).days
    when = "tomorrow" if days == 1 else f"in {days} days" if days > 1 else "today"
    due_on = _local_date(store, result.due)
    return f"card {result.card_id} rated {result.rating}: next due {due_on} ({when})"


def _early_note(store, result) -> str:  # noqa: ANN001
    return (
        f"note: card {result.card_id} was not due until {_local_date(store, result.previous_due)}; "
        "rated early"
    )


def _session(store, cards: list) -> None:  # noqa: ANN001
    rated = skipped = 0
    total = len(cards)
    try:
        for number, card in enumerate(cards, start=1):
            where = f"{card.concept}@{card.depth} ({card.lesson})"
            click.echo(f"\n[{number}/{total}] {where}, card {card.card}")
            if card.kind == "code":
                click.echo(f"  {card.prompt}\n  {card.answer}")
                skipped += 1
                continue
            click.echo(f"Q: {card.prompt}")
            started = time.monotonic()
            _ask("Press Enter to show the answer (q quits):")
            click.echo(f"A: {card.answer}")
            rating = _ask_rating()
            duration_ms = int((time.monotonic() - started) * 1000)
            result = _rate(store, card.card, rating, duration_ms)
            rated += 1
            click.echo(f"  {_describe(store, result)}")
    except _Quit:
        click.echo("Stopped; every rating so far is saved.")
    left = total - rated - skipped
    summary = f"Rated {rated} of {total}."
    if skipped:
        summary += (
            f" {skipped} code card(s) are reviewed with `tracker submit LESSON FILE --review`."
        )
    if left:
        summary += f" {left} still due: run `tracker review` again."
    click.echo(summary)


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
    from tracker.due import due_until
    from tracker.reviews import list_due, parse_rating, show_card

    if rating is not None:
        if card_id is None:
            raise click.UsageError("--rating needs a CARD: tracker review CARD --rating good")
        parse_rating(rating)  # refuse a bad rating before opening the database
        store = get_store(ctx)
        result = _rate(store, card_id, rating)
        if as_json:
            emit_json(result.as_dict())
        else:
            click.echo(_describe(store, result))
        if result.early:
            click.echo(_early_note(store, result), err=True)
        return
    if as_json:
        raise click.UsageError("--json needs --rating: the interactive session prints text")
    store = get_store(ctx)
    now = store.now()
    with store.read() as session:
        if card_id is not None:
            cards = [show_card(session, learner_id=store.learner_id, card_id=card_id)]
        else:
            cards = list_due(
                session, learner_id=store.learner_id, until=due_until(store.clock, now)
            )
    if not cards:
        click.echo("Nothing due today.")
        return
    if card_id is not None and cards[0].due >= due_until(store.clock, now):
        click.echo(
            f"note: card {card_id} is not due until {_local_date(store, cards[0].due)}; "
            "reviewing early",
            err=True,
        )
    _session(store, cards)


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
    from tracker.optimizer import optimize_learner

    store = get_store(ctx)
    result = optimize_learner(store, dry_run=dry_run)
    if as_json:
        emit_json(
            {
                "reviews": result.reviews_total,
                "reviews_used": result.reviews_used,
                "log_loss_before": result.loss_before,
                "log_loss_after": result.loss_after,
                "improved": result.improved,
                "stored": result.stored,
                "dry_run": dry_run,
                "parameters_before": list(result.previous_parameters),
                "parameters": list(result.parameters),
            }
        )
        return
    before = "your parameters" if result.custom_before else "the defaults"
    click.echo(f"{result.reviews_used} usable reviews ({result.reviews_total} in all)")
    click.echo(f"log loss before: {result.loss_before:.4f} ({before})")
    click.echo(f"log loss after:  {result.loss_after:.4f} (fitted)")
    click.echo("parameters: " + ", ".join(f"{p:.4f}" for p in result.parameters))
    if dry_run:
        click.echo("dry run: nothing stored")
    elif result.stored:
        click.echo("stored: your next ratings use these parameters")
    else:
        click.echo(
            f"not stored: the fitted parameters do not predict your reviews better than {before}"
        )
