"""`tracker import posts`: parse the arguments, call the importer, render its report."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import emit_json, get_store


@click.group("import")
def import_group() -> None:
    """Bring an existing learning journal into the tracker."""


@import_group.command("posts")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--repaired-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write every post, repaired, to this folder as UTF-8 under its own name.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be imported; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def posts(
    ctx: click.Context,
    paths: tuple[Path, ...],
    repaired_dir: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import journal posts (files or folders of *.md, *.markdown, *.txt) as sessions.

    Exit 0 when something was imported or was already there, 1 when nothing could be.

    \b
    Example:
        tracker import posts ~/blog/_posts --repaired-dir ~/blog/_repaired
    """
    from tracker.render.import_posts import render_text
    from tracker.usecases.importing import import_posts

    store = get_store(ctx)
    report = import_posts(
        store,
        learner_id=store.learner_id,
        now=store.now(),
        paths=list(paths),
        repaired_dir=repaired_dir,
        dry_run=dry_run,
    )
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(render_text(report))
    ctx.exit(report.exit_code)
