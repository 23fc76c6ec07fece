"""Wall time of every `tracker report` format and export against `tracker checkin`, same database.

Run: .venv/bin/python benchmarks/bench_report.py [--runs 7] [--scales 0.1,1,10]

The database holds five years of daily history (--years, default 5): about
2,000 study sessions, 100,000 review ratings over some 8,000 cards, a
check-in on most days, every lesson passed. It is generated in bulk with
SQLAlchemy Core (the ledger's shape, not the scheduler's exact intervals: an
interval grows 2.2x on a pass and starts again at a day on Again). Each
timed command is a fresh process (a cold start, warm page cache), commands
alternate so drift hits all alike. Goals: the HTML report within 2 s; every
format within 3x of the check-in. With --scales, the Markdown report is
also timed on histories of other sizes for the slope.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import FLOOR, save, summary, tracker_command, wall_times  # noqa: E402

NOW = "2025-11-14T20:00"
TARGET_RATIO, HTML_GOAL_S = 3.0, 2.0
COMMANDS = {
    "checkin": ["checkin"],
    "report md": ["report"],
    "report html": ["report", "--format", "html"],
    "report json": ["report", "--format", "json"],
    "report csv": ["report", "--format", "csv"],
    "report csv --what reviews": ["report", "--format", "csv", "--what", "reviews"],
    "export post": ["export", "post"],
    "export ics": ["export", "ics"],
    "export anki -o -": ["export", "anki", "-o", "-"],
}


def generate(env: dict[str, str], *, years: float, seed: int = 5) -> dict[str, int]:
    """Bulk-insert a learner's history ending at NOW; returns the row counts."""
    os.environ.update(env)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sqlalchemy import select

    from tracker.clock import parse_instant
    from tracker.db.models import Checkin, Lesson, Progress, ReviewCard, ReviewLog, StudySession
    from tracker.store import open_store

    rng = random.Random(seed)
    store = open_store()
    clock = store.clock
    end = parse_instant(NOW, clock.tz)
    days = int(365 * years)
    start = end - timedelta(days=days)
    with store.read() as session:
        lessons = session.execute(select(Lesson.id, Lesson.concept_id, Lesson.depth)).all()
    sessions, checkins, cards, logs = [], [], [], []
    card_id = 0
    for day in range(days + 1):  # the last is the day of NOW
        # Local 09:00-17:59 on each calendar day: inside one learner-day across DST changes.
        base = datetime.combine(start.astimezone(clock.tz).date() + timedelta(days=day), time(9))
        at = base.replace(tzinfo=clock.tz) + timedelta(
            hours=rng.randrange(9), minutes=rng.randrange(60)
        )
        local = clock.local_day(at)
        if rng.random() < 0.9:
            checkins.append(
                {"learner_id": store.learner_id, "local_date": local, "checked_in_at": at}
            )
        for _ in range(1 + (rng.random() < 0.1)):
            lesson, concept, depth = rng.choice(lessons)
            sessions.append(
                {
                    "learner_id": store.learner_id,
                    "lesson_id": lesson,
                    "concept_id": concept,
                    "depth": depth,
                    "kind": rng.choice(("study", "submission", "import")),
                    "completed_at": at,
                    "local_date": local,
                }
            )
        for _ in range(4 + (rng.random() < 0.4)):
            card_id += 1
            lesson, concept, _depth = rng.choice(lessons)
            review_at, interval, last, reps = at, 1.0, None, 0
            while review_at < end:
                rating = 1 if rng.random() < 0.12 else rng.choice((2, 3, 3, 3, 4))
                logs.append(
                    {
                        "card_id": card_id,
                        "learner_id": store.learner_id,
                        "rating": rating,
                        "reviewed_at": review_at,
                        "local_date": clock.local_day(review_at),
                    }
                )
                interval = 1.0 if rating == 1 else interval * 2.2
                last, reps = review_at, reps + 1
                review_at = review_at + timedelta(days=round(interval), minutes=rng.randrange(90))
            cards.append(
                {
                    "id": card_id,
                    "learner_id": store.learner_id,
                    "lesson_id": lesson,
                    "concept_id": concept,
                    "kind": "question",
                    "question_index": 1000 + card_id,
                    "state": 2,
                    "step": None,
                    "stability": interval,
                    "difficulty": 5.0,
                    "due": review_at,
                    "last_review": last,
                    "reps": reps,
                    "lapses": 0,
                    "suspended": False,
                    "created_at": at,
                }
            )
    progress = [
        {
            "learner_id": store.learner_id,
            "concept_id": concept,
            "lesson_id": lesson,
            "depth": depth,
            "achieved_at": start + timedelta(days=i * 3 + 1),
        }
        for i, (lesson, concept, depth) in enumerate(lessons)
    ]
    with store.write() as session:
        session.execute(StudySession.__table__.insert(), sessions)
        session.execute(Checkin.__table__.insert(), checkins)
        session.execute(Progress.__table__.insert(), progress)
        session.execute(ReviewCard.__table__.insert(), cards)
        session.execute(ReviewLog.__table__.insert(), logs)
    store.close()
    return {
        "sessions": len(sessions),
        "reviews": len(logs),
        "cards": len(cards),
        "checkins": len(checkins),
    }


def database(tmp: Path, name: str, years: float) -> tuple[dict[str, str], dict[str, int]]:
    config = tmp / f"{name}.toml"
    config.write_text('timezone = "Europe/Berlin"\nsessions_per_week = 3\n', encoding="utf-8")
    env = {
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": str(tmp / "pyc"),
        "TRACKER_DB": str(tmp / f"{name}.db"),
        "TRACKER_CONFIG": str(config),
        "TRACKER_NOW": NOW,
    }
    wall_times(tracker_command("init"), 1, env)
    return env, generate(env, years=years)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--scales", default="", help="e.g. 0.1,1,10: the md report's slope")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env, counts = database(tmp, "bench", args.years)
        commands = {name: tracker_command(*argv) for name, argv in COMMANDS.items()}
        for command in (FLOOR, *commands.values()):  # bytecode, page cache, the check-in row
            wall_times(command, 2, env)
        times: dict[str, list[float]] = {"floor": [], **{name: [] for name in commands}}
        for _ in range(args.runs):
            times["floor"] += wall_times(FLOOR, 1, env)
            for name, command in commands.items():
                times[name] += wall_times(command, 1, env)
        slope = {}
        for scale in [float(s) for s in args.scales.split(",") if s.strip()]:
            scaled_env, scaled = database(tmp, f"x{scale:g}", args.years * scale)
            report = tracker_command("report")
            wall_times(report, 1, scaled_env)
            slope[f"{scale:g}x"] = {**scaled, **summary(wall_times(report, 3, scaled_env))}
    results = {name: summary(values) for name, values in times.items()}
    checkin = results["checkin"]["median_s"]
    ratios = {name: round(r["median_s"] / checkin, 2) for name, r in results.items()}
    document = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "history": {"years": args.years, **counts},
        "results": results,
        "ratio_to_checkin": ratios,
        "target_ratio": TARGET_RATIO,
        "html_goal_s": HTML_GOAL_S,
        "html_within_goal": results["report html"]["median_s"] <= HTML_GOAL_S,
        "all_within_ratio": all(
            ratios[name] <= TARGET_RATIO for name in commands if name != "checkin"
        ),
        "slope_report_md": slope,
    }
    path = save("report", document)
    print(f"history: {counts}")
    print(f"{'command':<32} {'median':>8} {'min':>8} {'max':>8} {'x checkin':>10}")
    for name, figures in results.items():
        label = "python -c 'import sqlalchemy.orm, click'" if name == "floor" else f"tracker {name}"
        print(
            f"{label:<32} {figures['median_s']:>7.3f}s {figures['min_s']:>7.3f}s "
            f"{figures['max_s']:>7.3f}s {ratios[name]:>10.2f}"
        )
    for scale, figures in slope.items():
        print(
            f"tracker report at {scale}: {figures['reviews']} reviews, {figures['median_s']:.3f}s"
        )
    print(
        f"{args.runs} cold runs each; HTML within {HTML_GOAL_S} s: {document['html_within_goal']}; "
        f"every format within {TARGET_RATIO}x of checkin: {document['all_within_ratio']}; "
        f"saved to {path}"
    )


if __name__ == "__main__":
    main()
