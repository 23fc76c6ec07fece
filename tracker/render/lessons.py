"""Lessons as text: the Markdown a learner reads, what a study session recorded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tracker import hints

if TYPE_CHECKING:
    from tracker.usecases.catalog import LessonDetail
    from tracker.usecases.checkin import StudyRecord


def lesson_markdown(content: str, questions: Sequence[str]) -> str:
    """The lesson's text followed by its understanding-check questions."""
    numbered = "\n".join(f"{n}. {q}" for n, q in enumerate(questions, start=1))
    return f"{content.rstrip()}\n\n## Check your understanding\n\n{numbered}\n"


def print_markdown(text: str, *, source: bool = False) -> None:
    """A lesson for a person: rendered on a terminal, through a pager when it is longer
    than the screen; the Markdown source itself when piped (or with ``source``)."""
    import sys

    import click

    if source or not sys.stdout.isatty():
        click.echo(text, nl=False)
        return
    import shutil

    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(highlight=False)
    if text.count("\n") + 2 > shutil.get_terminal_size().lines:
        with console.pager(styles=True):
            console.print(Markdown(text))
    else:
        console.print(Markdown(text))


def render_study_record(record: StudyRecord) -> str:
    if record.first_pass:
        what = f"Recorded {record.lesson} on {record.date.isoformat()}"
    else:
        what = (
            f"Recorded {record.lesson} again on {record.date.isoformat()} "
            "as practice (not a new session)"
        )
    cards = f"; {record.cards_created} review cards added" if record.cards_created else ""
    return (
        f"{what}: {record.concept} is at depth {record.concept_depth}{cards}. "
        "Next: `tracker checkin`."
    )


def render_lesson_detail(detail: LessonDetail) -> str:
    """The lesson's Markdown with its questions and, for an exercise, how to start."""
    spec = detail.spec
    text = lesson_markdown(spec.content, [q.prompt for q in spec.questions])
    if spec.has_exercise:
        text += f"\nExercise: {hints.exercise_steps(spec.id)}.\n"
    return text
