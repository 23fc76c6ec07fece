"""`tracker optimize` on 20,000 synthetic reviews: whole command, and where the time goes.

Run: .venv/bin/python benchmarks/bench_optimize.py [--reviews 20000] [--runs 1]

The reviews come from a simulated learner whose memory follows FSRS with
parameters other than the defaults (so the fit has something to find), each
card scheduled by the default scheduler over a year. They are bulk-inserted
into a fresh tracker database; then `tracker optimize --dry-run --json` is
timed as a whole process (it pays for importing torch), and in-process the
parts: the usable-review count, fsrs' optimizer, and the two log losses.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import save, summary, tracker_command, wall_times  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def synthetic_reviews(target: int, seed: int = 7) -> list[tuple[int, int, datetime, int]]:
    """(card, rating, instant, duration_ms) until at least ``target`` reviews, whole cards."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reviews", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    import torch

    from tracker.optimizer import (
        LoggedReview,
        fit_parameters,
        log_loss,
        optimizable_reviews,
    )
    from tracker.scheduling import default_parameters

    reviews = synthetic_reviews(args.reviews)
    logged = [LoggedReview(*r) for r in reviews]
    usable = optimizable_reviews(logged)
    cards = len({r[0] for r in reviews})
    print(f"{len(reviews):,} synthetic reviews of {cards:,} cards ({usable:,} usable)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config = tmp / "c.toml"
        config.write_text('timezone = "UTC"\n')
        env = {"TRACKER_DB": str(tmp / "bench.db"), "TRACKER_CONFIG": str(config)}
        wall_times(tracker_command("init"), 1, env)
        insert(tmp / "bench.db", reviews)
        command = tracker_command("optimize", "--dry-run", "--json")
        times = []
        for _ in range(args.runs):
            begin = time.perf_counter()
            out = subprocess.run(command, capture_output=True, text=True, check=True,
                                 env={**os.environ, **env})  # fmt: skip
            times.append(time.perf_counter() - begin)
        result = json.loads(out.stdout)
        whole = summary(times)

    begin = time.perf_counter()
    optimizable_reviews(logged)
    count_s = time.perf_counter() - begin
    begin = time.perf_counter()
    fitted = fit_parameters(logged)
    fit_s = time.perf_counter() - begin
    begin = time.perf_counter()
    before, after = log_loss(logged, default_parameters()), log_loss(logged, fitted)
    loss_s = time.perf_counter() - begin
    document = {
        "reviews": len(reviews),
        "cards": cards,
        "usable": usable,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "tracker_optimize_dry_run": whole,
        "count_s": round(count_s, 4),
        "fit_s": round(fit_s, 2),
        "log_losses_s": round(loss_s, 2),
        "log_loss_before": before,
        "log_loss_after": after,
        "cli_log_loss_after": result["log_loss_after"],
    }
    print(f"usable-review count   {count_s * 1000:.1f} ms")
    print(f"fsrs optimizer fit    {fit_s:.1f} s  (torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads)")  # fmt: skip
    print(f"two log losses        {loss_s:.2f} s   before {before:.4f} -> after {after:.4f}")
    print(f"tracker optimize --dry-run --json (whole process) median {whole['median_s']:.1f} s "
          f"({args.runs} run(s))")  # fmt: skip
    path = save("optimize", document)
    print(f"saved to {path}")


if __name__ == "__main__":
    main()
