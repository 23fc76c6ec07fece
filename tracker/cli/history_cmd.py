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
    from tracker.render.history import render_history
    from tracker.usecases.history import history as timeline

    store = get_store(ctx)
    events = timeline(store, learner_id=store.learner_id, limit=limit)
    if as_json:
        emit_json(events.as_dict())
        return
    click.echo(render_history(events))
