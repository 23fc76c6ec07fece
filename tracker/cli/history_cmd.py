"""The history command."""

from __future__ import annotations

import re
from datetime import date, timedelta

import click

from tracker.cli.common import LIMIT, emit_json, get_store, style
from tracker.history import KINDS


class SinceParam(click.ParamType):
    """A date (2026-11-30), or a number of days back (7d); days count from today."""

    name = "DATE|Nd"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None):  # noqa: ANN201
        text = str(value).strip()
        if re.fullmatch(r"\d{1,5}d", text):
            return int(text[:-1])
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not a date (YYYY-MM-DD) or a number of days (7d)", param, ctx)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", type=LIMIT, default=None, help="Only the last N events.")
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only this kind (repeatable)."
)
@click.option("--since", type=SinceParam(), default=None, help="From this date, or N days back.")
@click.pass_context
def history(
    ctx: click.Context,
    as_json: bool,
    limit: int | None,
    kinds: tuple[str, ...],
    since: date | int | None,
) -> None:
    """Show what you studied, practised, submitted, reviewed and checked in, by date.

    \b
    Examples:
        tracker history --limit 20
        tracker history --kind review --since 7d
    """
    from tracker.render.history import render_history
    from tracker.usecases.history import history as timeline

    store = get_store(ctx)
    if isinstance(since, int):
        since = store.clock.local_day(store.now()) - timedelta(days=since)
    events = timeline(store, learner_id=store.learner_id, limit=limit, kinds=kinds, since=since)
    if as_json:
        emit_json(events.as_dict())
        return
    click.echo(render_history(events, style(ctx)))
