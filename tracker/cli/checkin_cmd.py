"""The daily commands: checkin, plan and learn."""

from __future__ import annotations

import click

from tracker.cli.common import complete_lesson, emit_json, gc_paused, get_store, style


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def checkin(ctx: click.Context, as_json: bool) -> None:
    """Check in for today: streak, reviews due, today's focus and why, and the plan.

    Recorded once per learner-day (before day_starts_at, default 04:00, it
    counts for the day before); running it again shows the same screen.

    \b
    Example:
        tracker checkin
        tracker checkin --json
    """
    with gc_paused():
        from tracker.usecases.checkin import checkin as check_in

        store = get_store(ctx)
        document = check_in(store, learner_id=store.learner_id, now=store.now())
    if as_json:
        emit_json(document.as_dict())
        return
    from tracker.render.checkin import render_checkin

    click.echo(render_checkin(document, style(ctx)))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def plan(ctx: click.Context, as_json: bool) -> None:
    """Show the study plan for this week, month and quarter (records nothing).

    Sessions are spread at your sessions_per_week goal, each chosen by the
    rule `checkin` uses, so the plan is what later check-ins will propose.

    \b
    Example:
        tracker plan --json
    """
    with gc_paused():
        from tracker.usecases.checkin import plan as plan_of

        store = get_store(ctx)
        document = plan_of(store, learner_id=store.learner_id, now=store.now())
    if as_json:
        emit_json(document.as_dict())
        return
    from tracker.render.checkin import render_plan_document

    click.echo(render_plan_document(document, style(ctx)))


@click.command()
@click.argument("lesson_id", metavar="LESSON", shell_complete=complete_lesson)
@click.option("--yes", "-y", is_flag=True, help="Record the study session without asking.")
@click.option("--force", is_flag=True, help="Study a lesson whose prerequisites are not met.")
@click.option("--markdown", is_flag=True, help="Print the lesson's Markdown source as is.")
@click.pass_context
def learn(ctx: click.Context, lesson_id: str, yes: bool, force: bool, markdown: bool) -> None:
    """Study a lesson: show it, then record the session and its depth.

    A lesson without an exercise is recorded when you confirm (--yes for
    scripts); an exercise lesson is passed with `tracker submit`. A locked
    lesson (prerequisites not met) is refused with what it needs (exit 1)
    unless --force.

    \b
    Example:
        tracker learn transformer-1
        tracker learn transformer-1 --yes
    """
    from tracker.errors import LessonLocked
    from tracker.render.lessons import lesson_markdown, print_markdown, render_study_record
    from tracker.usecases.checkin import learn as record_study
    from tracker.usecases.checkin import view_lesson

    store = get_store(ctx)
    view = view_lesson(store, learner_id=store.learner_id, lesson_id=lesson_id)
    if view.locked and not force:
        raise LessonLocked(view.locked_message())
    print_markdown(lesson_markdown(view.content, view.questions), source=markdown)
    lesson = view.lesson
    if lesson.has_exercise:
        from tracker import hints

        click.echo(f"\n{lesson.id} is passed by its exercise: {hints.exercise_steps(lesson.id)}.")
        return
    click.echo("")
    question = f"Record this study session ({lesson.concept} at depth {lesson.depth})?"
    if not yes and not _confirmed(question):
        return
    record = record_study(
        store, learner_id=store.learner_id, now=store.now(), lesson_id=lesson.id, force=force
    )
    click.echo(render_study_record(record))


def _confirmed(question: str) -> bool:
    """Ask; a "no" records nothing (exit 0), the end of input says so in one line (exit 1),
    Ctrl-C at the question records nothing and exits 130."""
    from tracker import interrupt
    from tracker.cli.keys import Keys, yes_no

    try:
        if yes_no(Keys(), question, default=True):
            return True
    except EOFError:
        click.echo("Not recorded: no answer (use --yes in scripts).")
        raise click.exceptions.Exit(1) from None
    except KeyboardInterrupt:
        click.echo("\nNot recorded.")
        click.echo(interrupt.MESSAGE, err=True)
        raise click.exceptions.Exit(interrupt.INTERRUPTED) from None
    click.echo("Not recorded.")
    return False
