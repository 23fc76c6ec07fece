"""``tracker remind`` and ``tracker reminders``: deliver what is due, and the record of it."""

from __future__ import annotations

import click

from tracker.cli.common import emit_json, get_store


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (cron, timers).")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and record nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def remind(ctx: click.Context, once: bool, dry_run: bool, as_json: bool) -> None:
    """Send the reminders that are due now through your channels, each once.

    Without --once it only previews (as --dry-run): what each reminder says
    and what --once would do now. `tracker serve` sends them on time by itself.

    \b
    Example (cron, every 15 minutes):
        */15 * * * * tracker remind --once >/dev/null
    """
    from tracker.reminders.channels import channels_for
    from tracker.render.reminders import render_dry_run, render_remind
    from tracker.usecases.reminders import remind as deliver

    store = get_store(ctx)
    terminal = (lambda _text: None) if as_json else click.echo
    channels = channels_for(store.settings, terminal=terminal)
    preview = dry_run or not once
    result = deliver(
        store, learner_id=store.learner_id, now=store.now(), channels=channels, dry_run=preview
    )
    zone = store.settings.timezone
    if as_json:
        emit_json(result.as_dict())
    elif preview:
        click.echo(render_dry_run(result, zone))
    else:
        out, err = render_remind(result, zone)
        for line in out:
            click.echo(line)
        for line in err:
            click.echo(line, err=True)
    ctx.exit(result.exit_code)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def reminders(ctx: click.Context, as_json: bool) -> None:
    """Show when the next reminder fires and what recent ones became.

    \b
    Example:
        tracker reminders
    """
    from tracker.render.reminders import render_log
    from tracker.usecases.reminders import reminder_log

    store = get_store(ctx)
    log = reminder_log(store, learner_id=store.learner_id, now=store.now())
    if as_json:
        emit_json(log.as_dict())
        return
    click.echo(render_log(log))
