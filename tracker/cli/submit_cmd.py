"""`tracker submit`: validate an exercise in the sandbox and record the outcome.

The command starts the sandboxed workers first (they spend a second or more
importing torch), opens the database while they do, then waits for the verdict.
Only ``--review`` opens the database first: it needs the lesson passed already.
torch is imported only inside the command, never when the CLI is loaded.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import click

from tracker.cli.checkin_cmd import gc_paused
from tracker.cli.common import emit_json, get_store
from tracker.validation.device import DEVICE_CHOICES


def _marks() -> tuple[str, str]:
    """✓ and ✗ where stdout can encode them, else ASCII."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "+", "x"
    return "✓", "✗"


def _skip_reason(check: dict) -> str | None:
    return check["message"] if check.get("skipped") else None


def render_verdict(document: dict) -> list[str]:
    ok, bad = _marks()
    status = "passed" if document["passed"] else "failed"
    lines = [click.style(f"{document['lesson']}: {status}", bold=True)]
    if document.get("error"):
        lines.append(f"  error: {document['error']}")
    # Checks that never ran are listed once per reason, not marked as failures.
    for reason, run in itertools.groupby(document["checks"], key=_skip_reason):
        if reason is None:
            for check in run:
                mark = ok if check["passed"] else bad
                lines.append(f"  {mark} {check['name']}: {check['message']}")
        else:
            lines.append(f"  - skipped ({reason}): {', '.join(c['name'] for c in run)}")
    lines.append(
        f"device {document['device']}, isolation {document['isolation']}, "
        f"{document['duration_s']:.2f} s"
    )
    if not document["isolation"].startswith("bubblewrap"):
        lines.append("  (no sandbox: bubblewrap is unavailable, so the code ran with limits only)")
    if document.get("recorded"):
        lines.append("progress recorded")
    elif not document["passed"]:
        lines.append("nothing recorded but the attempt; fix the failing checks and submit again")
    if "review" in document:
        review = document["review"]
        if review:
            lines.append(f"code card rated {review['rating']}, next due {review['due']}")
        else:
            lines.append("no code card to rate")
    return lines


@click.command()
@click.argument("lesson_id", metavar="LESSON")
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
@click.option("--review", is_flag=True, help="A review of a passed lesson: rates its code card.")
@click.pass_context
def submit(
    ctx: click.Context,
    lesson_id: str,
    file: Path,
    device: str,
    timeout: int | None,
    as_json: bool,
    review: bool,
) -> None:
    """Check an exercise file in a sandbox; record the lesson when it passes.

    Exit status: 0 passed, 1 failed, 2 bad input, 3 sandbox required but unavailable.

    \b
    Example:
        tracker lesson exercise multi-head-attention-2 -o mha.py
        tracker submit multi-head-attention-2 mha.py
    """
    from tracker.config import load_settings
    from tracker.submission import check_review_allowed, finish_submission, prepare_submission

    with gc_paused():  # a cold submit builds torch's and the ORM's objects: nothing to collect
        if review:  # checked before any worker starts: a review needs the lesson passed
            store = get_store(ctx)
            check_review_allowed(store, lesson_id)
        prepared = prepare_submission(
            lesson_id,
            file,
            settings=load_settings(),
            device=device.lower(),
            timeout=timeout,
            for_review=review,
        )
        try:
            store = get_store(ctx)  # opened while the workers import torch
        except BaseException:
            prepared.pending.cancel(kill=True)
            raise
        outcome = finish_submission(store, prepared)
    document = outcome.as_dict()
    if as_json:
        emit_json(document)
    else:
        for line in render_verdict(document):
            click.echo(line)
    ctx.exit(0 if outcome.verdict.passed else 1)
