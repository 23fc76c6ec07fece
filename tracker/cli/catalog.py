"""Commands that show the curriculum: init, concepts, lessons, lesson show | exercise."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import complete_lesson, emit_json, get_store, style


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database and sync the curriculum.

    \b
    Example:
        tracker --db ~/learning.db init
    """
    from tracker.usecases.catalog import init as ready

    report = ready(get_store(ctx))
    click.echo(
        f"tracker database ready at {report.location}: "
        f"{report.concepts} concepts, {report.lessons} lessons"
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def concepts(ctx: click.Context, as_json: bool) -> None:
    """List concepts with their category, depth reached and status.

    \b
    Example:
        tracker concepts --json
    """
    from tracker.render.catalog import render_concepts
    from tracker.usecases.catalog import concepts as concept_list

    store = get_store(ctx)
    rows = concept_list(store, learner_id=store.learner_id)
    if as_json:
        emit_json(rows.as_dict())
        return
    click.echo(render_concepts(rows, style(ctx)))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def lessons(ctx: click.Context, as_json: bool) -> None:
    """List lessons: passed, available (prerequisites met) or locked.

    \b
    Example:
        tracker lessons --json
    """
    from tracker.render.catalog import render_lessons
    from tracker.usecases.catalog import lessons as lesson_list

    store = get_store(ctx)
    rows = lesson_list(store, learner_id=store.learner_id)
    if as_json:
        emit_json(rows.as_dict())
        return
    click.echo(render_lessons(rows, style(ctx)))


@click.group()
def lesson() -> None:
    """Show a lesson, or write its exercise skeleton."""


@lesson.command("show")
@click.argument("lesson_id", metavar="ID", shell_complete=complete_lesson)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def lesson_show(ctx: click.Context, lesson_id: str, as_json: bool) -> None:
    """Show a lesson's text and its understanding-check questions.

    \b
    Example:
        tracker lesson show multi-head-attention-2
    """
    from tracker.render.lessons import print_markdown, render_lesson_detail
    from tracker.usecases.catalog import lesson_detail

    get_store(ctx)  # the curriculum it shows is the one the database holds
    detail = lesson_detail(lesson_id)
    if as_json:
        emit_json(detail.as_dict())
        return
    print_markdown(render_lesson_detail(detail))


@lesson.command("exercise")
@click.argument("lesson_id", metavar="ID", shell_complete=complete_lesson)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the skeleton to FILE instead of printing it.",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def lesson_exercise(lesson_id: str, output: Path | None, force: bool) -> None:
    """Write a lesson's exercise skeleton, the file you complete and submit.

    \b
    Example:
        tracker lesson exercise multi-head-attention-2 -o mha.py
    """
    from tracker.usecases.catalog import exercise_skeleton

    skeleton = exercise_skeleton(lesson_id, output, force=force)
    if output is None:
        click.echo(skeleton.text, nl=False)
        return
    click.echo(f"wrote {output}; when it is done: {skeleton.next_step}", err=True)
