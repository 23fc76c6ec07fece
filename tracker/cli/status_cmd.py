"""`tracker status`: one line for a shell prompt (the console script answers it first)."""

from __future__ import annotations

import click

from tracker.cli.common import emit_json, get_store, style


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """One line for a shell prompt or a status bar: due reviews, streak, today's lesson.

    Records nothing. Fast: run it on every prompt.

    \b
    Example:
        PS1='$(tracker status) $ '
        tracker status --json
    """
    from tracker.render.status import render_status
    from tracker.usecases.status import status as status_of

    store = get_store(ctx)
    document = status_of(store, learner_id=store.learner_id, now=store.now())
    if as_json:
        emit_json(document.as_dict())
        return
    click.echo(render_status(document, style(ctx)))
