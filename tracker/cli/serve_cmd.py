"""``tracker serve``: the long-running host of the tracker's services."""

from __future__ import annotations

import click

from tracker.cli.common import get_store


@click.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run in the foreground: keep a warm validation worker, send reminders on time.

    While it runs, `tracker submit` hands its work to this process, which
    forks the sandboxed worker from a process that has already imported torch.
    It also sends each reminder at its time (reminder_time,
    streak_reminder_time) through your channels, once, catching up on start.
    One serve per database; stop it with Ctrl-C or SIGTERM.

    \b
    Example:
        tracker serve
    """
    from tracker.serve.host import Host
    from tracker.serve.reminders import ReminderService
    from tracker.serve.validation import ValidationService

    store = get_store(ctx)
    validation = ValidationService(require_isolation=store.settings.require_isolation)
    Host(store).run([ReminderService(), validation])
