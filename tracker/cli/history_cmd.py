"""The history command."""

from __future__ import annotations

import click

from tracker.cli.common import emit_json, get_store


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the last N events.")
@click.pass_context
def history(ctx: click.Context, as_json: bool, limit: int | None) -> None:
    """Show what you studied, submitted, reviewed and checked in, by date.

    \b
    Example:
        tracker history --limit 20
    """
    from tracker.history import learner_history

    store = get_store(ctx)
    with store.read() as session:
        events = learner_history(session, learner_id=store.learner_id, limit=limit)
    if as_json:
        emit_json([e.as_dict() for e in events])
        return
    if not events:
        click.echo("Nothing yet: start with `tracker checkin`.")
    for e in events:
        what = f"{e.concept}@{e.depth} ({e.lesson})" if e.concept else ""
        click.echo(f"{e.date.isoformat()}  {e.kind:<10}  {what}".rstrip())
