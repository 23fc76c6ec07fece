"""``tracker serve``: the long-running process (the warm validation worker, for now)."""

from __future__ import annotations

import click

from tracker.cli.common import get_store


@click.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run in the foreground: keep a warm validation worker so `submit` is fast.

    While it runs, `tracker submit` forks its sandboxed worker from a process
    that has already imported torch, instead of starting Python and torch
    again. Stop it with Ctrl-C.

    \b
    Example:
        tracker serve
    """
    import signal
    import threading

    from tracker.validation.warm_server import open_warm_server

    store = get_store(ctx)
    server = open_warm_server(store.location, require_isolation=store.settings.require_isolation)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: server.stop())
    click.echo(
        f"tracker serve: warm validation worker ready ({server.isolation}) "
        f"at {server.paths.socket}; Ctrl-C to stop",
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        click.echo("tracker serve: stopped", err=True)
