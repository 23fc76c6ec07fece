"""FSRS scheduling: the one module that talks to the ``fsrs`` package.

Every interval comes from ``fsrs.Scheduler.review_card``; nothing here does
interval arithmetic. What this module adds:

- a scheduler per learner, from their settings (desired retention, steps,
  maximum interval; fuzz always on) and their fitted parameters, stored as
  JSON in the ``settings`` table under ``fsrs_parameters``;
- conversions between ``ReviewCard`` rows and ``fsrs.Card`` (the row id is
  the card id, so ``Card()`` never sleeps to invent one);
- reproducible fuzz. fsrs draws its fuzz from the module-global
  ``random.random``; like Anki, we seed it from the card id and the number of
  reviews before this one, so the same history always gives the same
  schedule. The seeded generator is swapped into ``fsrs.scheduler`` for the
  duration of one review under a lock: the global ``random`` state of
  everyone else is never touched.

fsrs works in UTC only; callers pass UTC instants and turn them into
learner-days with ``tracker.clock`` at the edges. Importing this module
imports fsrs, so only the rating path (not ``tracker due``) imports it.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import fsrs.scheduler as _fsrs_scheduler
from fsrs import Card, Rating, ReviewLog, Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Settings, step_minutes
from tracker.db.models import ReviewCard, Setting
from tracker.errors import ConfigError

PARAMETERS_KEY = "fsrs_parameters"

if not callable(getattr(_fsrs_scheduler, "random", None)):  # pragma: no cover - fsrs changed
    raise ImportError("fsrs.scheduler no longer draws fuzz from `random`; update seeded_fuzz")

_FUZZ_LOCK = threading.Lock()


def fuzz_seed(card_id: int, reps: int) -> str:
    """The fuzz seed of a card's review number ``reps`` (0 for its first review).

    A string seed goes through SHA-512 in ``random.Random``: stable across
    processes and Python versions, and unlike Anki's ``id + reps`` two
    neighbouring cards never share a seed.
    """
    return f"{card_id}:{reps}"


@contextmanager
def seeded_fuzz(seed: str) -> Iterator[None]:
    """Make fsrs draw its fuzz from ``random.Random(seed)`` inside the block."""
    generator = random.Random(seed)
    with _FUZZ_LOCK:
        original = _fsrs_scheduler.random
        _fsrs_scheduler.random = generator.random
        try:
            yield
        finally:
            _fsrs_scheduler.random = original


def default_parameters() -> tuple[float, ...]:
    return tuple(DEFAULT_PARAMETERS)


def load_parameters(session: Session, *, learner_id: int) -> tuple[float, ...] | None:
    """The learner's fitted parameters, or None when they use the defaults."""
    raw = session.scalar(
        select(Setting.value).where(Setting.learner_id == learner_id, Setting.key == PARAMETERS_KEY)
    )
    if raw is None:
        return None
    try:
        values = tuple(float(v) for v in json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"stored {PARAMETERS_KEY} are unreadable; run `tracker optimize` again"
        ) from exc
    return values


def save_parameters(
    session: Session, *, learner_id: int, parameters: Sequence[float], now: datetime
) -> None:
    """Store fitted parameters inside the caller's transaction."""
    Scheduler(parameters=parameters)  # validates count and bounds before anything is written
    value = json.dumps([float(p) for p in parameters])
    row = session.get(Setting, (learner_id, PARAMETERS_KEY))
    if row is None:
        session.add(Setting(learner_id=learner_id, key=PARAMETERS_KEY, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now


def build_scheduler(settings: Settings, parameters: Sequence[float] | None = None) -> Scheduler:
    """A scheduler with the learner's settings and parameters (defaults when None)."""
    try:
        return Scheduler(
            parameters=tuple(parameters) if parameters is not None else DEFAULT_PARAMETERS,
            desired_retention=settings.desired_retention,
            learning_steps=[timedelta(minutes=step_minutes(s)) for s in settings.learning_steps],
            relearning_steps=[
                timedelta(minutes=step_minutes(s)) for s in settings.relearning_steps
            ],
            maximum_interval=settings.maximum_interval,
            enable_fuzzing=True,
        )
    except ValueError as exc:
        first = str(exc).splitlines()[-1]
        raise ConfigError(f"invalid FSRS parameters ({first}); run `tracker optimize`") from exc


def scheduler_for(session: Session, *, learner_id: int, settings: Settings) -> Scheduler:
    return build_scheduler(settings, load_parameters(session, learner_id=learner_id))


def card_from_row(row: ReviewCard) -> Card:
    return Card(
        card_id=row.id,
        state=State(row.state),
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=row.due,
        last_review=row.last_review,
    )


def apply_card(row: ReviewCard, card: Card) -> None:
    """Copy fsrs' scheduling state back onto the row (the cache of its logs)."""
    row.state = int(card.state)
    row.step = card.step
    row.stability = float(card.stability) if card.stability is not None else None
    row.difficulty = float(card.difficulty) if card.difficulty is not None else None
    row.due = card.due
    row.last_review = card.last_review


def as_utc(instant: datetime) -> datetime:
    """fsrs accepts only ``tzinfo is timezone.utc``; any aware instant is converted."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: tracker works with aware instants only")
    return instant.astimezone(UTC)


def review(
    scheduler: Scheduler,
    card: Card,
    rating: int,
    *,
    now: datetime,
    reps: int,
    duration_ms: int | None = None,
) -> tuple[Card, ReviewLog]:
    """One review through fsrs, fuzz seeded from the card id and its review count."""
    with seeded_fuzz(fuzz_seed(card.card_id, reps)):
        return scheduler.review_card(
            card, Rating(rating), review_datetime=as_utc(now), review_duration=duration_ms
        )


def replay(
    scheduler: Scheduler,
    *,
    card_id: int,
    created_at: datetime,
    ratings: Sequence[tuple[int, datetime]],
) -> Card:
    """Rebuild a card from its ledger: the same seeds give the same schedule."""
    card = Card(card_id=card_id, due=as_utc(created_at))
    for reps, (rating, reviewed_at) in enumerate(sorted(ratings, key=lambda r: r[1])):
        card, _ = review(scheduler, card, rating, now=reviewed_at, reps=reps)
    return card


def retrievability(scheduler: Scheduler, row: ReviewCard, now: datetime) -> float:
    """Predicted probability of recall now (0 for a card never reviewed)."""
    return float(scheduler.get_card_retrievability(card_from_row(row), as_utc(now)))
