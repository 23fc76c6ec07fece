"""What automatic backups cost: the day's copy, and the check every later write makes.

    .venv/bin/python scripts/measure_backups.py [--logs 200000]

Builds a database with a learner and ``--logs`` review-log rows (about what
a year of heavy reviewing leaves), then times, each the median of 7 runs:
the day's backup (copy, verify, link, thin), the check a process makes on its
first write when the day's backup exists (scan ``backups/`` under its lock),
and thinning a folder of 400 daily backups down to Anki's 33.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE = '{"state": 2, "step": null, "stability": 12.5, "difficulty": 5.1, "reps": 4}'


def _median_ms(fn, runs: int = 7) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logs", type=int, default=200_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tracker.db.backups import backup_folder, daily_backup, list_backups, make_backup, thin
    from tracker.store import open_store

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "config.toml").write_text('timezone = "UTC"\n', encoding="utf-8")
        os.environ["TRACKER_CONFIG"] = str(folder / "config.toml")
        db = folder / "tracker.db"
        open_store(str(db)).close()
        with sqlite3.connect(db) as conn:
            conn.execute(
                "INSERT INTO review_cards (id, learner_id, lesson_id, concept_id, kind,"
                " question_index, state, due, reps, lapses, suspended, created_at)"
                " VALUES (1, 1, 'transformer-1', 'transformer', 'question', 0, 2,"
                " '2026-01-01 00:00:00', 0, 0, 0, '2025-01-01 00:00:00')"
            )
            conn.executemany(
                "INSERT INTO review_logs (card_id, learner_id, rating, reviewed_at, local_date,"
                " card_before) VALUES (1, 1, 3, ?, '2025-06-01', ?)",
                (
                    ("2025-06-01 10:00:00", "{" + '"x": 1, ' * 12 + '"y": 2}')
                    for _ in range(args.logs)
                ),
            )
        size_mib = db.stat().st_size / 2**20
        now = datetime(2026, 12, 2, 10, tzinfo=UTC)
        counter = iter(range(10**6))

        def copy() -> None:
            make_backup(db, now=now + timedelta(seconds=next(counter)), kind="daily")

        copy_ms = _median_ms(copy)
        check_ms = _median_ms(lambda: daily_backup(db, now=now))
        for path in list(backup_folder(db).iterdir()):
            path.unlink()
        stamps = [now - timedelta(days=n) for n in range(400)]

        def thin_400() -> None:
            for stamp in stamps:
                (backup_folder(db) / f"tracker.{stamp:%Y-%m-%dT%H%M%SZ}.daily.db").touch()
            started = time.perf_counter()
            thin(db, today=now.date())
            thin_400.ms = (time.perf_counter() - started) * 1000  # type: ignore[attr-defined]

        thin_runs = []
        for _ in range(7):
            thin_400()
            thin_runs.append(thin_400.ms)  # type: ignore[attr-defined]
        kept = len(list_backups(db))
    print(f"database: {args.logs} review logs, {size_mib:.1f} MiB")
    print(f"the day's backup (copy, verify, link, thin): {copy_ms:.0f} ms")
    print(f"a later first write's check (the day's backup exists): {check_ms:.2f} ms")
    print(f"thinning 400 daily backups: {statistics.median(thin_runs):.1f} ms, {kept} kept")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
