"""``tracker serve``: the long-running host of the tracker's services."""

from __future__ import annotations

import click

from tracker.cli.common import get_store


@click.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run in the foreground: keep a warm validation worker so `submit` is fast.

    While it runs, `tracker submit` hands its work to this process, which
    forks the sandboxed worker from a process that has already imported torch,
    instead of starting Python and torch again. One serve per database; stop
    it with Ctrl-C or SIGTERM.

    \b
    Example:
        tracker serve
    """
    from tracker.serve.host import Host
    from tracker.serve.validation import ValidationService

    store = get_store(ctx)
    Host(store).run([ValidationService(require_isolation=store.settings.require_isolation)])
