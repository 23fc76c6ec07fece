"""`tracker submit`: validate an exercise in the sandbox and record the outcome.

Run here, this is the cold path: the sandboxed workers start first (they spend
a second or more importing torch) and the database is opened while they do.
Only ``--review`` opens the database first: it needs the lesson passed already.
When ``tracker serve`` runs, the console script hands the request to it before
this module is even loaded (``tracker.handoff``).
"""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import complete_lesson, emit_json, gc_paused, get_store, style
from tracker.validation.device import DEVICE_CHOICES


@click.command()
@click.argument("lesson_id", metavar="LESSON", shell_complete=complete_lesson)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--device",
    type=click.Choice(DEVICE_CHOICES, case_sensitive=False),
    default="auto",
    show_default=True,
    help="Where the checks run: auto picks cuda, then mps, then cpu.",
)
@click.option(
    "--timeout",
    type=click.IntRange(1, 3600),
    default=None,
    metavar="SECONDS",
    help="Wall-clock limit per worker run (default: validation_timeout, 60).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print the verdict line alone.")
@click.option("--review", is_flag=True, help="A review of a passed lesson: rates its code card.")
@click.option("--request-id", hidden=True, default=None, help="Set by the hand-off client.")
@click.pass_context
def submit(
    ctx: click.Context,
    lesson_id: str,
    file: Path,
    device: str,
    timeout: int | None,
    as_json: bool,
    quiet: bool,
    review: bool,
    request_id: str | None,
) -> None:
    """Check an exercise file in a sandbox; record the lesson when it passes.

    Exit status: 0 passed, 1 failed, 2 bad input, 3 sandbox required but unavailable.

    \b
    Example:
        tracker lesson exercise multi-head-attention-2 -o mha.py
        tracker submit multi-head-attention-2 mha.py
    """
    from tracker.config import load_settings
    from tracker.render.progress import spinning
    from tracker.render.table import terminal_width
    from tracker.render.verdict import render_verdict
    from tracker.usecases.submit import SubmitRequest, begin_validation, new_request_id, submit

    request = SubmitRequest(
        lesson_id=lesson_id,
        path=file,
        device=device.lower(),
        timeout=timeout,
        for_review=review,
        request_id=request_id or new_request_id(),
    )
    settings = load_settings()
    now = settings.clock.now()
    with gc_paused():  # a cold submit builds torch's and the ORM's objects: nothing to collect
        # A review (the lesson must be passed) or a retried request (it may be recorded
        # already) is checked before any worker starts; otherwise the workers start
        # first and import torch while the database is opened.
        started = None if review or request_id else begin_validation(request, settings=settings)
        try:
            store = get_store(ctx)
        except BaseException:
            if started is not None:
                started.pending.cancel(kill=True)
            raise
        with spinning(f"checking {lesson_id}", enabled=not (as_json or quiet)):
            outcome = submit(store, started or request, learner_id=store.learner_id, now=now)
    document = outcome.as_dict()
    if as_json:
        emit_json(document)
    else:
        lines = render_verdict(document, style(ctx), width=terminal_width(), quiet=quiet)
        click.echo("\n".join(lines))
    ctx.exit(outcome.exit_code)
