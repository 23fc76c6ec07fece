"""Shared helpers for the benchmarks: whole-process wall times, medians, results on disk."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
FLOOR = [sys.executable, "-c", "import sqlalchemy.orm, click"]


def tracker_command(*args: str) -> list[str]:
    """`tracker ARGS` as a learner runs it: the console script beside this Python."""
    script = Path(sys.executable).with_name("tracker")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "tracker", *args]


def wall_times(command: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall seconds of ``runs`` fresh processes (each pays its own imports: a cold start)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env={**os.environ, **(env or {})})
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
        "runs": len(times),
    }


def save(name: str, document: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
