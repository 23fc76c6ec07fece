"""Cold `tracker submit LESSON reference.py` for each exercise lesson, against `import torch`.

Run: .venv/bin/python benchmarks/bench_submit_lessons.py [--runs 5] [--lessons a,b,...]

The goal for every lesson (issue 13): a cold submit of its reference within 1.3x of
`python -c "import torch"`, the floor any cold submit pays. On a shared machine one
benchmark's wall time moves by 10-20% between runs, so the floor and each lesson are
timed alternately, run by run, and the CPU seconds of each process tree are reported
beside the wall time (load moves them much less). By default every lesson with a
checks.py is timed except the three-phase flash-attention-3 (bench_submit.py times it).
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
from timing import save, tracker_command  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
TORCH_FLOOR = [sys.executable, "-c", "import torch"]
SKIPPED = {"flash-attention-3"}  # three workers; bench_submit.py times it


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the whole process tree) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, **env})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lessons", default="", help="comma-separated lesson ids")
    args = parser.parse_args()
    lessons = [name for name in args.lessons.split(",") if name] or sorted(
        p.parent.name for p in LESSONS.glob("*/checks.py") if p.parent.name not in SKIPPED
    )
    with tempfile.TemporaryDirectory() as tmp:
        env = {"TRACKER_DB": f"{tmp}/bench.db", "TRACKER_CONFIG": f"{tmp}/c.toml"}
        subprocess.run(tracker_command("init"), check=True, capture_output=True, env=env)
        commands = {"floor": TORCH_FLOOR}
        for lesson in lessons:
            reference = LESSONS / lesson / "reference.py"
            commands[lesson] = tracker_command("submit", lesson, str(reference))
        for command in commands.values():  # warm the page cache and the lesson fingerprints
            timed(command, env)
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                seconds, cpu_seconds = timed(command, env)
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
    floor_wall, floor_cpu = statistics.median(wall["floor"]), statistics.median(cpu["floor"])
    document = {"runs": args.runs, "floor_wall_s": floor_wall, "floor_cpu_s": floor_cpu}
    print(f"floor  python -c 'import torch'   wall {floor_wall:.3f} s   cpu {floor_cpu:.3f} s")
    for lesson in lessons:
        median_wall, median_cpu = statistics.median(wall[lesson]), statistics.median(cpu[lesson])
        ratio = median_wall / floor_wall
        document[lesson] = {
            "wall_s": round(median_wall, 4),
            "cpu_s": round(median_cpu, 4),
            "ratio_wall": round(ratio, 3),
            "wall_runs": [round(t, 4) for t in wall[lesson]],
        }
        print(
            f"{lesson:32s} wall {median_wall:.3f} s ({ratio:.2f}x)   cpu {median_cpu:.3f} s "
            f"({median_cpu / floor_cpu:.2f}x of the floor's cpu)"
        )
    print(
        f"medians of {args.runs} interleaved runs each; saved to {save('submit_lessons', document)}"
    )


if __name__ == "__main__":
    main()
