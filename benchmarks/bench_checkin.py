"""Wall time of the daily `tracker checkin` against the import floor, on one machine.

Run: .venv/bin/python benchmarks/bench_checkin.py [--runs 21]

Each run is a fresh process (a cold start: it pays every import; the page
cache is warm, as it is for a learner's second command of the day). Floor and
check-in runs alternate so drift on a busy machine hits both alike. The
database is realistic: a learner with two months of check-ins and a few
passed lessons. Bytecode is written to a private cache for both commands, as
an installed package has it, even where PYTHONDONTWRITEBYTECODE is set.
Target: the check-in's median within 1.3x of the floor's.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import FLOOR, save, summary, tracker_command, wall_times  # noqa: E402

TARGET = 1.3
NOW = "2025-11-10T08:30"
PASSED = {7: "attention-mechanism-1", 5: "transformer-1", 2: "multi-head-attention-2"}  # days ago


def seed(env: dict[str, str]) -> None:
    """A learner with 60 days of history, as the core would have recorded it."""
    os.environ.update(env)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tracker.checkin import check_in

    from tracker.clock import parse_instant
    from tracker.db.models import Lesson
    from tracker.progress import record_passed_lesson
    from tracker.store import open_store

    store = open_store()
    try:
        end = parse_instant(NOW, store.clock.tz)
        for back in range(60, 0, -1):
            if back % 9 == 0:
                continue  # some skipped days
            when = end - timedelta(days=back)
            with store.write() as session:
                check_in(
                    session,
                    learner_id=store.learner_id,
                    clock=store.clock,
                    now=when,
                    sessions_per_week=3,
                )
                if back in PASSED:
                    record_passed_lesson(
                        session,
                        learner_id=store.learner_id,
                        lesson=session.get(Lesson, PASSED[back]),
                        kind="study",
                        completed_at=when,
                        local_date=store.clock.local_day(when),
                    )
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text('timezone = "UTC"\nsessions_per_week = 3\n', encoding="utf-8")
        python_env = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")}
        env = {
            **python_env,
            "TRACKER_DB": str(Path(tmp) / "bench.db"),
            "TRACKER_CONFIG": str(config),
            "TRACKER_NOW": NOW,
        }
        wall_times(tracker_command("init"), 1, env)  # schema and curriculum: the daily case
        seed(env)
        checkin = tracker_command("checkin")
        as_json = tracker_command("checkin", "--json")
        for command in (FLOOR, checkin, as_json):  # bytecode and page cache for all
            wall_times(command, 2, env)
        times: dict[str, list[float]] = {"floor": [], "checkin": [], "checkin_json": []}
        for _ in range(args.runs):
            times["floor"] += wall_times(FLOOR, 1, python_env)
            times["checkin"] += wall_times(checkin, 1, env)
            times["checkin_json"] += wall_times(as_json, 1, env)
    results = {name: summary(values) for name, values in times.items()}
    ratio = round(results["checkin"]["median_s"] / results["floor"]["median_s"], 2)
    ratio_json = round(results["checkin_json"]["median_s"] / results["floor"]["median_s"], 2)
    document = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "floor_command": "python -c 'import sqlalchemy.orm, click'",
        "floor": results["floor"],
        "tracker_checkin": results["checkin"],
        "tracker_checkin_json": results["checkin_json"],
        "ratio": ratio,
        "ratio_json": ratio_json,
        "target_ratio": TARGET,
        "within_target": ratio <= TARGET,
    }
    path = save("checkin", document)
    rows = [
        ("python -c 'import sqlalchemy.orm, click'", results["floor"], "1.00"),
        ("tracker checkin", results["checkin"], f"{ratio:.2f}"),
        ("tracker checkin --json", results["checkin_json"], f"{ratio_json:.2f}"),
    ]
    print(f"{'command':<42} {'median':>8} {'min':>8} {'max':>8} {'ratio':>6}")
    for name, figures, factor in rows:
        print(
            f"{name:<42} {figures['median_s']:>7.3f}s {figures['min_s']:>7.3f}s "
            f"{figures['max_s']:>7.3f}s {factor:>6}"
        )
    verdict = "within" if ratio <= TARGET else "NOT within"
    print(f"{args.runs} cold runs each; checkin {verdict} the {TARGET}x target; saved to {path}")


if __name__ == "__main__":
    main()
