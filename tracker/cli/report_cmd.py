"""The report and export commands: parse, call one use case, render, write bytes.

Output is bytes in UTF-8 whatever the terminal's encoding (Korean labels
included), to stdout or to ``--output PATH``, written to a temporary file
beside it and renamed so a failed export never leaves half a file.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import click

from tracker.cli.common import gc_paused, get_store
from tracker.errors import UsageError

FORMATS = ("md", "html", "json", "csv")
LANGS = ("en", "ko")
DEFAULT_DECK = "tracker.apkg"


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None


def output_path(output: str) -> Path:
    """``-o`` as a file path, or the one line saying why it cannot be one (exit 2)."""
    from tracker.paths import os_problem, user_path

    if not output.strip():
        raise UsageError("-o is empty: give a file path, or - for stdout")
    path = user_path(output, what="-o")
    try:
        is_dir = not path.name or path.name == ".." or path.is_dir()
    except OSError as exc:
        raise UsageError(f"-o {output}: {os_problem(exc)}") from None
    if is_dir:
        raise UsageError(f"-o {output}: that is a directory; give a file path")
    return path


def write_output(data: bytes, output: str | None) -> None:
    """Bytes to stdout, or to ``output`` through a temporary file and a rename."""
    if output is None or output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = output_path(output)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {path} ({len(data):,} bytes)", err=True)


date_option = click.option(
    "--date",
    "day",
    metavar="YYYY-MM-DD",
    callback=_parse_date,
    help="The learner-day (default today).",
)
output_option = click.option(
    "--output", "-o", metavar="PATH", default=None, help="Write to PATH instead of stdout."
)
lang_option = click.option(
    "--lang", type=click.Choice(LANGS), default="en", show_default=True, help="Label language."
)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="md",
    show_default=True,
    help="md, html (one self-contained page), json or csv.",
)
@output_option
@lang_option
@date_option
@click.option(
    "--what",
    type=click.Choice(("sessions", "reviews")),
    default=None,
    help="For --format csv: study sessions (default) or the review log.",
)
@click.pass_context
def report(
    ctx: click.Context, fmt: str, output: str | None, lang: str, day: date | None, what: str | None
) -> None:
    """Show your progress: growth indicators and review statistics.

    \b
    Example:
        tracker report
        tracker report --format html -o report.html --lang ko
        tracker report --format csv --what reviews -o reviews.csv
    """
    if what is not None and fmt != "csv":
        raise click.UsageError("--what applies to --format csv only")
    # No collector passes over a five-year ledger's 100,000 rows (about 0.1 s).
    with gc_paused():
        from tracker.reports.document import build_report, build_review_log

        store = get_store(ctx)
        if what == "reviews":
            from tracker.render.report_data import render_reviews_csv

            log = build_review_log(
                store, learner_id=store.learner_id, now=store.now(), clock=store.clock, day=day
            )
            write_output(render_reviews_csv(log), output)
            return
        document = build_report(
            store,
            learner_id=store.learner_id,
            now=store.now(),
            clock=store.clock,
            lang=lang,
            day=day,
            sessions_per_week=store.settings.sessions_per_week,
        )
        if fmt == "md":
            from tracker.render.report_md import render_markdown as render
        elif fmt == "html":
            from tracker.render.report_html import render_html as render
        elif fmt == "json":
            from tracker.render.report_data import render_json as render
        else:
            from tracker.render.report_data import render_sessions_csv as render
        data = render(document)
    write_output(data, output)


@click.group()
def export() -> None:
    """Export your journal post, your schedule (iCalendar) or your cards (Anki).

    \b
    Example:
        tracker export post --lang ko -o _posts/2025-11-14-flash-attention.md
        tracker export ics -o tracker.ics
        tracker export anki -o tracker.apkg
    """


@export.command()
@date_option
@output_option
@lang_option
@click.pass_context
def post(ctx: click.Context, day: date | None, output: str | None, lang: str) -> None:
    """Write the day's learning-journal post as Jekyll Markdown.

    A day without a study session is refused (exit 2) with the last study
    day before it.

    \b
    Example:
        tracker export post --date 2025-11-14 --lang ko
    """
    with gc_paused():
        from tracker.render.post import render_post
        from tracker.reports.post import build_post

        store = get_store(ctx)
        document = build_post(
            store,
            learner_id=store.learner_id,
            now=store.now(),
            clock=store.clock,
            lang=lang,
            day=day,
            sessions_per_week=store.settings.sessions_per_week,
        )
        data = render_post(document)
    write_output(data, output)


@export.command()
@output_option
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=30,
    show_default=True,
    help="How many learner-days ahead, today included.",
)
@click.pass_context
def ics(ctx: click.Context, output: str | None, days: int) -> None:
    """Write upcoming review days and planned lessons as an iCalendar file.

    Alarms ring at reminder_time; importing a newer file updates the events.

    \b
    Example:
        tracker export ics --days 14 -o tracker.ics
    """
    from tracker.render.ics import render_ics
    from tracker.reports.exports import build_calendar

    store = get_store(ctx)
    document = build_calendar(
        store,
        learner_id=store.learner_id,
        now=store.now(),
        clock=store.clock,
        days=days,
        reminder_time=store.settings.reminder_time,
        sessions_per_week=store.settings.sessions_per_week,
    )
    write_output(render_ics(document), output)


@export.command()
@click.option(
    "--output",
    "-o",
    metavar="PATH",
    default=DEFAULT_DECK,
    show_default=True,
    help="Where to write the deck (- for stdout).",
)
@click.pass_context
def anki(ctx: click.Context, output: str) -> None:
    """Write your question cards as an Anki deck (.apkg).

    One note per question, tagged with its concept and depth; importing a
    newer deck updates the notes of the older one.

    \b
    Example:
        tracker export anki -o tracker.apkg
    """
    from tracker.render.apkg import render_apkg
    from tracker.reports.exports import build_deck

    store = get_store(ctx)
    document = build_deck(store, learner_id=store.learner_id)
    write_output(render_apkg(document), output)
    if output != "-":
        click.echo(f"{len(document.notes)} notes in the deck", err=True)
