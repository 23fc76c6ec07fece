"""`tracker optimize --dry-run --json` on 20,000 synthetic reviews, as a whole process.

The reviews come from a simulated learner whose memory follows FSRS with
parameters other than the defaults (so the fit has something to find), each card
scheduled by the default scheduler over a year, bulk-inserted into a fresh
database. The command pays for importing torch and fitting with fsrs' optimizer;
its runs alternate with ``python -c "import torch"`` (a floor, no goal).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.harness import (
    Context,
    Figure,
    Process,
    compared,
    interleave,
    python_command,
    tracker_command,
)
from benchmarks.workspace import init, tracker_env


def synthetic_reviews(target: int, seed: int = 7) -> list[tuple[int, int, datetime, int]]:
    """(card, rating, instant, duration_ms) until at least ``target`` reviews, whole cards."""
    import random

    import fsrs

    rng = random.Random(seed)
    true_parameters = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    true_parameters[0:4] = [1.0, 2.0, 3.0, 6.0]
    true_parameters[8] = 1.3
    options = {"enable_fuzzing": False, "learning_steps": (), "relearning_steps": ()}
    truth = fsrs.Scheduler(parameters=true_parameters, **options)
    teacher = fsrs.Scheduler(**options)
    start = datetime(2024, 1, 1, 8, tzinfo=UTC)
    end = start + timedelta(days=365)
    reviews: list[tuple[int, int, datetime, int]] = []
    card_id = 0
    while len(reviews) < target:
        card_id += 1
        at = start + timedelta(days=rng.randrange(60), minutes=rng.randrange(600))
        card = memory = fsrs.Card(card_id=card_id, due=at)
        while at < end:
            if memory.last_review is None:
                rating = rng.choices([1, 2, 3, 4], [20, 15, 50, 15])[0]
            elif rng.random() < truth.get_card_retrievability(memory, at):
                rating = rng.choices([2, 3, 4], [10, 80, 10])[0]
            else:
                rating = 1
            reviews.append((card_id, rating, at, rng.randrange(2000, 20000)))
            card, _ = teacher.review_card(card, fsrs.Rating(rating), at)
            memory, _ = truth.review_card(memory, fsrs.Rating(rating), at)
            at = card.due + timedelta(minutes=rng.randrange(-120, 600))
    return reviews


def stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M:%S.%f")


def insert(db: Path, reviews: list[tuple[int, int, datetime, int]]) -> None:
    conn = sqlite3.connect(db)
    try:
        learner = conn.execute("SELECT id FROM learners").fetchone()[0]
        first: dict[int, datetime] = {}
        for card, _, at, _ in reviews:
            first.setdefault(card, at)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO review_cards (id, learner_id, lesson_id, concept_id, kind, "
            "question_index, state, step, due, reps, lapses, suspended, created_at) "
            "VALUES (?, ?, 'transformer-1', 'transformer', 'question', ?, 1, 0, ?, 0, 0, 0, ?)",
            [(card, learner, card, stamp(at), stamp(at)) for card, at in first.items()],
        )
        conn.executemany(
            "INSERT INTO review_logs (card_id, learner_id, rating, reviewed_at, local_date, "
            "review_duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (card, learner, rating, stamp(at), at.date().isoformat(), ms)
                for card, rating, at, ms in reviews
            ],
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def run(ctx: Context) -> Iterator[Figure]:
    reviews = synthetic_reviews(ctx.size(20_000, 1_000))
    cards = len({r[0] for r in reviews})
    env = tracker_env(ctx.tmp, "optimize")
    init(env)
    insert(Path(env["TRACKER_DB"]), reviews)
    optimize = Process(tracker_command("optimize", "--dry-run", "--json"), env)
    torch = Process(python_command("import torch"), env)
    t = interleave({"optimize": optimize, "torch": torch}, runs=ctx.runs_for(2), warmup=0)
    result = json.loads(optimize.last_stdout)
    note = (f"{len(reviews):,} reviews of {cards:,} cards; log loss "
            f"{result.get('log_loss_before')} -> {result.get('log_loss_after')}")  # fmt: skip
    yield compared(f"optimize --dry-run ({len(reviews):,} reviews)", t["optimize"],
                   'python -c "import torch"', t["torch"], note=note)  # fmt: skip
