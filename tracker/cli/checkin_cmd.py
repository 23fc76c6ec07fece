"""The daily commands: checkin, plan and learn.

`checkin` is the first thing a learner runs each morning, so its screen is
plain click output (rich costs more start-up time than the whole command may
spend); `learn` renders Markdown with rich, imported only there. The screens
are ASCII so a piped or legacy-console stdout never fails to encode them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import click

from tracker.cli.common import emit_json, get_store

WIDTH = 100


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one short command, then restore it.

    Opening the store builds thousands of long-lived objects (tables, mappers,
    compiled statements); the collector would rescan them several times in a
    process that lives a quarter of a second and frees nothing cyclic. Pausing
    it takes about 20 ms (a tenth) off `tracker checkin` (benchmarks/bench_checkin.py).
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Re-enabling with the allocation counters this high would start a full
            # collection at once; freeze + unfreeze moves the survivors to the oldest
            # generation and zeroes the young counter, and leaves nothing frozen.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _heading(text: str) -> str:
    return click.style(text, bold=True)


def _weekday(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%a")


def _lesson_line(item: dict[str, Any]) -> str:
    code = "  (exercise)" if item.get("has_exercise") else ""
    return f"{item['lesson']}{code}"


def _wrapped(label: str, items: list[dict[str, Any]]) -> list[str]:
    text = ", ".join(item["lesson"] for item in items)
    indent = " " * (2 + 14)
    lines = textwrap.wrap(text, width=WIDTH - len(indent), break_on_hyphens=False) or ["-"]
    first, *rest = lines
    return [f"  {label:<14}{first}", *(indent + line for line in rest)]


def render_plan(lists: dict[str, list[dict[str, Any]]], sessions_per_week: int) -> list[str]:
    week, month, quarter = lists["week"], lists["month"], lists["quarter"]
    lines = [_heading(f"Plan at {sessions_per_week} sessions a week")]
    if not (week or month or quarter):
        return [*lines, "  nothing left to plan: every lesson is passed"]
    if week:
        for number, item in enumerate(week):
            label = "This week" if number == 0 else ""
            when = f"{_weekday(item['date'])} {item['date'][5:]}"
            lines.append(f"  {label:<14}{when}  {_lesson_line(item)}")
    else:
        lines.append(f"  {'This week':<14}-")
    lines += _wrapped("This month", month)
    lines += _wrapped("This quarter", quarter)
    if not quarter and (week or month):
        lines.append(f"  {'':<14}(then the curriculum is complete)")
    return lines


def render_focus(focus: dict[str, Any] | None, due_reviews: int) -> list[str]:
    lines: list[str] = []
    if due_reviews:
        noun = "review" if due_reviews == 1 else "reviews"
        lines.append(f"{_heading('Reviews')}  {due_reviews} {noun} due: run `tracker review` first")
    else:
        lines.append(f"{_heading('Reviews')}  none due")
    lines.append("")
    if focus is None:
        lines.append(
            f"{_heading('Today')}  every lesson is passed: nothing new to study. "
            "Keep your reviews going with `tracker review`."
        )
        return lines
    lines.append(
        f"{_heading('Today')}  {focus['lesson']}  "
        f"({focus['concept']}, depth {focus['depth']}: {focus['depth_label']})"
    )
    if focus.get("title"):
        lines.append(f"  {focus['title']}")
    lines += textwrap.wrap(
        f"why: {focus['reason']}",
        width=WIDTH,
        initial_indent="  ",
        subsequent_indent="    ",
        break_on_hyphens=False,
    )
    if focus.get("first"):
        lines.append(f"  then: {focus['next_step']}")
    else:
        lines.append(f"  next: {focus['next_step']}")
    return lines


def render_connections(items: list[dict[str, Any]], focus: dict[str, Any] | None) -> list[str]:
    if focus is None:
        return []
    lines = [_heading("Connections")]
    if not items:
        lines.append("  none yet: nothing studied on its prerequisites or its concept")
    for item in items[:5]:
        lesson = f"  {item['lesson']}" if item.get("lesson") else ""
        lines.append(
            f"  {item['date']}  {item['concept']}@{item['depth']}{lesson}  ({item['kind']})"
        )
    if len(items) > 5:
        lines.append(f"  ... and {len(items) - 5} more (see --json)")
    return lines


def render_checkin(doc: dict[str, Any]) -> str:
    streak = doc["streak_days"]
    day_word = "day" if streak == 1 else "days"
    header = (
        f"{_heading('Check-in')} {_weekday(doc['date'])} {doc['date']}  |  "
        f"streak {streak} {day_word}  |  {doc['sessions_completed']} sessions completed  |  "
        f"{doc['lessons_passed']}/{doc['lessons_total']} lessons passed"
    )
    lines = [header]
    if doc["main_path"]:
        steps = " -> ".join(
            f"{step['lesson']}{' [x]' if step['passed'] else ''}" for step in doc["main_path"]
        )
        lines.append(f"{_heading('Main path')}  {steps}")
    lines.append("")
    lines += render_focus(doc["focus"], doc["due_reviews"])
    connections = render_connections(doc["connections"], doc["focus"])
    if connections:
        lines += ["", *connections]
    lines += ["", *render_plan(doc["plan"], doc["sessions_per_week"])]
    return "\n".join(lines)


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
        from tracker.checkin import check_in

        store = get_store(ctx)
        now = store.now()
        with store.write() as session:
            document = check_in(
                session,
                learner_id=store.learner_id,
                clock=store.clock,
                now=now,
                sessions_per_week=store.settings.sessions_per_week,
            )
    if as_json:
        emit_json(document)
        return
    click.echo(render_checkin(document))


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
        from tracker.checkin import plan_document

        store = get_store(ctx)
        now = store.now()
        with store.read() as session:
            document = plan_document(
                session,
                learner_id=store.learner_id,
                clock=store.clock,
                now=now,
                sessions_per_week=store.settings.sessions_per_week,
            )
    if as_json:
        emit_json(document)
        return
    focus = document["focus"]
    lines = [f"{_heading('Plan')} from {_weekday(document['date'])} {document['date']}"]
    if focus is not None:
        lines.append(f"  next: {focus['lesson']}: {focus['reason']}")
    lines += ["", *render_plan(document, document["sessions_per_week"])]
    click.echo("\n".join(lines))


@click.command()
@click.argument("lesson_id", metavar="LESSON")
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
    from tracker.checkin import LessonLocked, locked_message, record_study, view_lesson

    store = get_store(ctx)
    with store.read() as session:
        view = view_lesson(session, learner_id=store.learner_id, lesson_id=lesson_id)
    if view.missing and not force:
        raise LessonLocked(locked_message(lesson_id, view.missing))
    lesson = view.lesson
    questions = "\n".join(f"{n}. {q}" for n, q in enumerate(view.questions, start=1))
    text = f"{view.content.rstrip()}\n\n## Check your understanding\n\n{questions}\n"
    if markdown:
        click.echo(text, nl=False)
    else:
        from rich.console import Console
        from rich.markdown import Markdown

        Console(highlight=False).print(Markdown(text))
    if lesson.has_exercise:
        click.echo(
            f"\n{lesson.id} is passed by its exercise: "
            f"`tracker lesson exercise {lesson.id} -o {lesson.id}.py`, "
            f"then `tracker submit {lesson.id} {lesson.id}.py`."
        )
        return
    click.echo("")
    question = f"Record this study session ({lesson.concept} at depth {lesson.depth})?"
    if not yes and not click.confirm(question, default=True):
        click.echo("Not recorded.")
        return
    now = store.now()
    with store.write() as session:
        record = record_study(
            session,
            learner_id=store.learner_id,
            lesson_id=lesson.id,
            clock=store.clock,
            now=now,
            force=force,
        )
    again = "" if record.first_pass else " (studied again; depth unchanged)"
    cards = f"; {record.cards_created} review cards added" if record.cards_created else ""
    click.echo(
        f"Recorded {record.lesson} on {record.date.isoformat()}{again}: "
        f"{record.concept} is at depth {record.concept_depth}{cards}. "
        "Next: `tracker checkin`."
    )
