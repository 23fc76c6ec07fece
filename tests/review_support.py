"""Helpers shared by the review, scheduling and simulation tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tracker.clock import parse_instant


def write_config(path: Path, **values: Any) -> None:
    """Overwrite the test config file (conftest's TRACKER_CONFIG) with ``values``."""
    import tomli_w

    path.write_text(tomli_w.dumps({"timezone": "UTC", **values}), encoding="utf-8")


def pass_lessons(store, *lessons: tuple[str, str]) -> None:  # noqa: ANN001
    """Record (lesson, instant) passes as a submission or a study session would."""
    from tracker.db.models import Lesson
    from tracker.progress import record_passed_lesson

    for lesson_id, at in lessons:
        instant = parse_instant(at, store.clock.tz)
        with store.write() as session:
            lesson = session.get(Lesson, lesson_id)
            record_passed_lesson(
                session,
                learner_id=store.learner_id,
                lesson=lesson,
                kind="submission" if lesson.has_exercise else "study",
                completed_at=instant,
                local_date=store.clock.local_day(instant),
            )


def card_rows(store) -> dict[int, dict[str, Any]]:  # noqa: ANN001
    from tracker.db.models import ReviewCard

    with store.read() as session:
        cards = session.scalars(select(ReviewCard).order_by(ReviewCard.id)).all()
        return {
            c.id: {
                "lesson": c.lesson_id,
                "kind": c.kind,
                "state": c.state,
                "step": c.step,
                "stability": c.stability,
                "difficulty": c.difficulty,
                "due": c.due,
                "last_review": c.last_review,
                "reps": c.reps,
                "lapses": c.lapses,
            }
            for c in cards
        }


def log_rows(store) -> list[tuple[Any, ...]]:  # noqa: ANN001
    from tracker.db.models import ReviewLog

    with store.read() as session:
        return [
            (r.card_id, r.rating, r.reviewed_at, r.local_date, r.submission_id)
            for r in session.scalars(select(ReviewLog).order_by(ReviewLog.id))
        ]


def due_json(cli_run) -> list[dict[str, Any]]:  # noqa: ANN001
    result = cli_run("due", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def synthetic_reviews(cards: int, *, horizon_days: int = 365, seed: int = 7) -> list:
    """Review logs of a simulated learner whose memory follows fsrs with other parameters.

    Each card is scheduled by the default scheduler (no fuzz) and recalled with
    the probability a "true" scheduler predicts, so a fit has something to find.
    """
    import random
    from datetime import UTC, datetime, timedelta

    import fsrs

    from tracker.optimizer import LoggedReview

    rng = random.Random(seed)
    true_parameters = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    true_parameters[0:4] = [1.0, 2.0, 3.0, 6.0]
    true_parameters[8] = 1.3  # slower growth of stability than the defaults
    options = {"enable_fuzzing": False, "learning_steps": (), "relearning_steps": ()}
    truth = fsrs.Scheduler(parameters=true_parameters, **options)
    teacher = fsrs.Scheduler(**options)
    start = datetime(2024, 1, 1, 8, tzinfo=UTC)
    end = start + timedelta(days=horizon_days)
    reviews = []
    for card_id in range(1, cards + 1):
        at = start + timedelta(days=rng.randrange(60), minutes=rng.randrange(600))
        card = memory = fsrs.Card(card_id=card_id, due=at)
        while at < end:
            if memory.last_review is None:
                rating = rng.choices([1, 2, 3, 4], [20, 15, 50, 15])[0]
            elif rng.random() < truth.get_card_retrievability(memory, at):
                rating = rng.choices([2, 3, 4], [10, 80, 10])[0]
            else:
                rating = 1
            reviews.append(LoggedReview(card_id, rating, at, rng.randrange(2000, 20000)))
            card, _ = teacher.review_card(card, fsrs.Rating(rating), at)
            memory, _ = truth.review_card(memory, fsrs.Rating(rating), at)
            at = card.due + timedelta(minutes=rng.randrange(-120, 600))
    return reviews


def insert_reviews(store, reviews: list) -> None:  # noqa: ANN001
    """Bulk-insert cards and logs for ``reviews`` (card ids as given) for the store's learner."""
    from tracker.db.models import ReviewCard, ReviewLog

    first = {}
    for r in reviews:
        first.setdefault(r.card_id, r.reviewed_at)
    clock = store.clock
    with store.write() as session:
        session.execute(
            ReviewCard.__table__.insert(),
            [
                {
                    "id": card_id,
                    "learner_id": store.learner_id,
                    "lesson_id": "transformer-1",
                    "concept_id": "transformer",
                    "kind": "question",
                    "question_index": card_id,
                    "state": 1,
                    "step": 0,
                    "due": at,
                    "reps": 0,
                    "lapses": 0,
                    "suspended": False,
                    "created_at": at,
                }
                for card_id, at in first.items()
            ],
        )
        session.execute(
            ReviewLog.__table__.insert(),
            [
                {
                    "card_id": r.card_id,
                    "learner_id": store.learner_id,
                    "rating": r.rating,
                    "reviewed_at": r.reviewed_at,
                    "local_date": clock.local_day(r.reviewed_at),
                    "review_duration_ms": r.duration_ms,
                }
                for r in reviews
            ],
        )
