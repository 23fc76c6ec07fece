"""Commands that show the curriculum: init, concepts, lessons, lesson show."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from tracker.cli.common import emit_json, get_store


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database and sync the curriculum.

    \b
    Example:
        tracker --db ~/learning.db init
    """
    from tracker.db.models import Concept, Lesson

    store = get_store(ctx)
    with store.read() as session:
        concepts = len(session.scalars(select(Concept.id).where(Concept.retired.is_(False))).all())
        lessons = len(session.scalars(select(Lesson.id).where(Lesson.retired.is_(False))).all())
    click.echo(
        f"tracker database ready at {store.location.describe()}: "
        f"{concepts} concepts, {lessons} lessons"
    )


def concept_rows(store) -> list[dict]:  # noqa: ANN001
    from tracker.db.models import Concept
    from tracker.progress import concept_depths, concept_status

    with store.read() as session:
        depths = concept_depths(session, learner_id=store.learner_id)
        concepts = session.scalars(
            select(Concept).where(Concept.retired.is_(False)).order_by(Concept.position)
        ).all()
        return [
            {
                "id": c.id,
                "title": c.title,
                "category": c.category,
                "depth": depths.get(c.id, 0),
                "target_depth": c.target_depth,
                "status": concept_status(depths.get(c.id, 0), c.target_depth),
            }
            for c in concepts
        ]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def concepts(ctx: click.Context, as_json: bool) -> None:
    """List concepts with their category, depth reached and status.

    \b
    Example:
        tracker concepts --json
    """
    rows = concept_rows(get_store(ctx))
    if as_json:
        emit_json(rows)
        return
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        bar = "#" * r["depth"] + "." * max(r["target_depth"] - r["depth"], 0)
        click.echo(f"{r['id']:<{width}}  {r['category']:<12}  {bar}  {r['status']}")


def lesson_rows(store) -> list[dict]:  # noqa: ANN001
    from tracker.db.models import Lesson
    from tracker.progress import concept_depths, passed_lessons

    with store.read() as session:
        depths = concept_depths(session, learner_id=store.learner_id)
        passed = passed_lessons(session, learner_id=store.learner_id)
        lessons = session.scalars(
            select(Lesson).where(Lesson.retired.is_(False)).order_by(Lesson.position)
        ).all()
        rows = []
        for lesson in lessons:
            requires = [{"concept": p.concept_id, "depth": p.depth} for p in lesson.prerequisites]
            if lesson.id in passed:
                status = "passed"
            elif all(depths.get(r["concept"], 0) >= r["depth"] for r in requires):
                status = "available"
            else:
                status = "locked"
            rows.append(
                {
                    "id": lesson.id,
                    "concept": lesson.concept_id,
                    "depth": lesson.depth,
                    "title": lesson.title,
                    "requires": requires,
                    "has_exercise": lesson.has_exercise,
                    "status": status,
                }
            )
        return rows


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def lessons(ctx: click.Context, as_json: bool) -> None:
    """List lessons: passed, available (prerequisites met) or locked.

    \b
    Example:
        tracker lessons --json
    """
    rows = lesson_rows(get_store(ctx))
    if as_json:
        emit_json(rows)
        return
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        needs = ", ".join(f"{q['concept']}@{q['depth']}" for q in r["requires"]) or "-"
        code = "code" if r["has_exercise"] else "    "
        click.echo(f"{r['id']:<{width}}  {r['status']:<9}  {code}  needs {needs}")


@click.group()
def lesson() -> None:
    """Show a lesson, or write its exercise skeleton."""


def find_lesson_spec(lesson_id: str):  # -> LessonSpec
    from tracker.curriculum.loader import load_curriculum
    from tracker.errors import LessonNotFound

    curriculum = load_curriculum()
    spec = curriculum.lessons.get(lesson_id)
    if spec is None:
        raise LessonNotFound(f"no lesson {lesson_id!r}; see `tracker lessons`")
    return spec


@lesson.command("show")
@click.argument("lesson_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def lesson_show(ctx: click.Context, lesson_id: str, as_json: bool) -> None:
    """Show a lesson's text and its understanding-check questions.

    \b
    Example:
        tracker lesson show multi-head-attention-2
    """
    get_store(ctx)
    spec = find_lesson_spec(lesson_id)
    if as_json:
        emit_json(
            {
                "id": spec.id,
                "concept": spec.concept,
                "depth": spec.depth,
                "title": spec.title,
                "summary": spec.summary,
                "requires": [{"concept": r.concept, "depth": r.depth} for r in spec.requires],
                "has_exercise": spec.has_exercise,
                "content": spec.content,
                "questions": [q.prompt for q in spec.questions],
            }
        )
        return
    click.echo(spec.content.rstrip())
    click.echo("\n## Check your understanding\n")
    for number, question in enumerate(spec.questions, start=1):
        click.echo(f"{number}. {question.prompt}")
    if spec.has_exercise:
        click.echo(
            f"\nExercise: `tracker lesson exercise {spec.id} -o {spec.id}.py`, "
            f"then `tracker submit {spec.id} {spec.id}.py`."
        )


@lesson.command("exercise")
@click.argument("lesson_id", metavar="ID")
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
    from tracker.errors import UsageError

    spec = find_lesson_spec(lesson_id)
    if spec.exercise is None:
        raise UsageError(f"lesson {lesson_id!r} has no exercise")
    skeleton = (spec.folder / "exercise.py").read_text(encoding="utf-8")
    if output is None:
        click.echo(skeleton, nl=False)
        return
    if output.exists() and not force:
        raise UsageError(f"{output} already exists; use --force to overwrite it")
    try:
        output.write_text(skeleton, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}; when it is done: tracker submit {spec.id} {output}", err=True)
