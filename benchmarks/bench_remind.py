"""Wall time of `tracker remind --once` next to `tracker checkin`, on the same database.

Run: .venv/bin/python benchmarks/bench_remind.py [--runs 21]

Each run is a fresh process, as cron or a systemd timer starts it. Three
commands alternate with the import floor: `tracker checkin` (the daily
command), `tracker remind --once` when there is nothing left to deliver (what
a timer every 15 minutes does nearly every time: one read, no write) and
`tracker remind --once` that decides and delivers a day's reminder (a new
learner-day each run; the terminal channel). The database holds a learner
with two months of check-ins, three passed lessons and their due cards.
`remind --once` must not import APScheduler (tests/test_reminders.py checks).
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

NOW = "2026-03-10T09:30:00+00:00"  # after the 09:00 reminder (UTC)
PASSED = {7: "attention-mechanism-1", 5: "transformer-1", 2: "multi-head-attention-2"}


def seed(env: dict[str, str]) -> None:
    """Two months of check-ins and a few passed lessons, through the use cases."""
    os.environ.update(env)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tracker.clock import parse_instant
    from tracker.db.models import Lesson
    from tracker.progress import record_passed_lesson
    from tracker.store import open_store
    from tracker.usecases.checkin import checkin

    store = open_store()
    try:
        end = parse_instant(NOW, store.clock.tz)
        for back in range(60, 0, -1):
            when = end - timedelta(days=back)
            if back % 9:
                checkin(store, learner_id=store.learner_id, now=when)
            if back in PASSED:
                with store.write() as session:
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
    from datetime import datetime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text('timezone = "UTC"\nchannels = ["terminal"]\n', encoding="utf-8")
        python_env = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")}
        env = {
            **python_env,
            "TRACKER_DB": str(Path(tmp) / "bench.db"),
            "TRACKER_CONFIG": str(config),
            "TRACKER_NOW": NOW,
        }
        wall_times(tracker_command("init"), 1, env)
        seed(env)
        checkin, remind = tracker_command("checkin"), tracker_command("remind", "--once")
        for command in (FLOOR, checkin, remind):  # bytecode, page cache; today's reminder sent
            wall_times(command, 2, env)
        start = datetime.fromisoformat(NOW)
        times: dict[str, list[float]] = {"floor": [], "checkin": [], "idle": [], "deliver": []}
        for run in range(args.runs):
            day = {**env, "TRACKER_NOW": (start + timedelta(days=run + 1)).isoformat()}
            times["floor"] += wall_times(FLOOR, 1, python_env)
            times["checkin"] += wall_times(checkin, 1, env)
            times["idle"] += wall_times(remind, 1, env)
            times["deliver"] += wall_times(remind, 1, day)
    results = {name: summary(values) for name, values in times.items()}
    floor = results["floor"]["median_s"]
    base = results["checkin"]["median_s"]
    document = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "floor_command": "python -c 'import sqlalchemy.orm, click'",
        "floor": results["floor"],
        "tracker_checkin": results["checkin"],
        "remind_once_nothing_due": results["idle"],
        "remind_once_delivering": results["deliver"],
        "ratio_to_checkin": {
            "nothing_due": round(results["idle"]["median_s"] / base, 2),
            "delivering": round(results["deliver"]["median_s"] / base, 2),
        },
    }
    path = save("remind", document)
    rows = [
        ("python -c 'import sqlalchemy.orm, click'", "floor"),
        ("tracker checkin", "checkin"),
        ("tracker remind --once (nothing left to send)", "idle"),
        ("tracker remind --once (decides, sends)", "deliver"),
    ]
    print(f"{'command':<46} {'median':>8} {'min':>8} {'max':>8} {'/floor':>7} {'/checkin':>9}")
    for name, key in rows:
        figures = results[key]
        print(
            f"{name:<46} {figures['median_s']:>7.3f}s {figures['min_s']:>7.3f}s "
            f"{figures['max_s']:>7.3f}s {figures['median_s'] / floor:>7.2f} "
            f"{figures['median_s'] / base:>9.2f}"
        )
    print(f"{args.runs} cold runs each, alternating; saved to {path}")


if __name__ == "__main__":
    main()
