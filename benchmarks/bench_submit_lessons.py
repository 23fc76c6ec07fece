"""Cold `tracker submit LESSON reference.py` of each exercise lesson against `import torch`.

Run: .venv/bin/python benchmarks/bench_submit_lessons.py [LESSON ...] [--runs 5]

Every exercise lesson must submit cold within 1.3x of `python -c "import torch"` (the
floor every cold submit pays, see bench_submit.py). This times each lesson's own
reference solution (every check runs and passes), alternating floor and submit run by
run so a busy machine slows both alike, and prints the median ratio per lesson. Without
arguments it times every lesson that has a checks.py.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import save, summary, tracker_command, wall_times  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
TORCH_FLOOR = [sys.executable, "-c", "import torch"]
TARGET = 1.3


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of the whole process tree) of one run: on a
    machine shared with other work the CPU seconds move far less than the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, **env})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("lessons", nargs="*", help="lesson ids (default: every exercise lesson)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    lessons = args.lessons or sorted(p.parent.name for p in LESSONS.glob("*/checks.py"))
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {"TRACKER_DB": str(Path(tmp) / "b.db"), "TRACKER_CONFIG": str(Path(tmp) / "c.toml")}
        wall_times(tracker_command("init"), 1, env)
        wall_times(TORCH_FLOOR, 1)  # the page cache, for both
        for lesson in lessons:
            submit = tracker_command("submit", lesson, str(LESSONS / lesson / "reference.py"))
            wall_times(submit, 1, env)  # its files into the page cache
            runs: dict[str, list[tuple[float, float]]] = {"floor": [], "submit": []}
            for _ in range(args.runs):
                runs["floor"].append(timed(TORCH_FLOOR, env))
                runs["submit"].append(timed(submit, env))
            wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
            cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
            ratio = round(wall["submit"] / wall["floor"], 2)
            results[lesson] = {
                "floor": summary([w for w, _ in runs["floor"]]),
                "submit": summary([w for w, _ in runs["submit"]]),
                "ratio": ratio,
                "cpu_s": {k: round(v, 3) for k, v in cpu.items()},
            }
            print(
                f"{lesson:28} submit {wall['submit']:.3f} s  import torch {wall['floor']:.3f} s  "
                f"ratio {ratio:.2f}x ({'ok' if ratio <= TARGET else 'over'} {TARGET}x)  CPU s "
                f"{cpu['submit']:.2f} / {cpu['floor']:.2f}",
                flush=True,
            )
    path = save("submit_lessons", {"runs": args.runs, "target": TARGET, "lessons": results})
    print(f"({args.runs} alternating runs each) saved to {path}")


if __name__ == "__main__":
    main()
