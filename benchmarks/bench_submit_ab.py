"""Cold `tracker submit` of this tree against another revision, interleaved run by run.

Run: .venv/bin/python benchmarks/bench_submit_ab.py [--base main] [--runs 8]

On a machine shared with other work the wall time of one benchmark moves by 10-20%
between runs, more than most changes cost; timing the two trees alternately, in the
same minutes, and reporting the CPU seconds of each submit's process tree too, shows
what a change costs. The base revision is exported with `git archive` to a temporary
folder and run with the same interpreter and packages (PYTHONPATH first). Lessons
timed: multi-head-attention-2 (one worker) and flash-attention-3 with a key-outer
and a query-and-key tiled solution (three workers; the second style runs ~27,000
tensor operations in its memory phase, which is what a per-operation cost shows in).
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
BANK = "tests/submissions"
CASES = {  # name: (lesson, submission relative to a tree)
    "mha2": ("multi-head-attention-2", f"{BANK}/multi-head-attention-2/correct.py"),
    "flash3_kv_outer": ("flash-attention-3", f"{BANK}/flash-attention-3/correct_kv_outer.py"),
    "flash3_tiles": ("flash-attention-3", f"{BANK}/flash-attention-3/correct_query_key_tiles.py"),
}


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the whole process tree) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="main", help="the revision to compare with")
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.base], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        trees = {"base": base, "this": ROOT}
        envs = {
            name: {
                **os.environ,
                "PYTHONPATH": str(tree),
                "TRACKER_DB": str(Path(tmp) / f"{name}.db"),
                "TRACKER_CONFIG": str(Path(tmp) / "config.toml"),
            }
            for name, tree in trees.items()
        }
        for env in envs.values():
            subprocess.run(tracker_command("init"), check=True, capture_output=True, env=env)
        times: dict[str, list[tuple[float, float]]] = {}
        for round_ in range(args.runs + 1):  # round 0 warms the page cache
            order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for case, (lesson, file) in CASES.items():
                for name in order:
                    command = tracker_command("submit", lesson, str(trees[name] / file))
                    measured = run(command, envs[name])
                    if round_:
                        times.setdefault(f"{case} {name}", []).append(measured)
    document = {
        key: {
            "wall_median_s": round(statistics.median(w for w, _ in values), 3),
            "wall_min_s": round(min(w for w, _ in values), 3),
            "cpu_median_s": round(statistics.median(c for _, c in values), 3),
            "runs": len(values),
        }
        for key, values in times.items()
    }
    document["base"] = args.base
    path = save("submit_ab", document)
    for case in CASES:
        figures = [document[f"{case} {name}"] for name in ("base", "this")]
        wall = figures[1]["wall_median_s"] / figures[0]["wall_median_s"]
        cpu = figures[1]["cpu_median_s"] / figures[0]["cpu_median_s"]
        print(
            f"{case:16s} base {figures[0]['wall_median_s']:.3f} s ({figures[0]['cpu_median_s']:.2f}"
            f" s CPU)  this {figures[1]['wall_median_s']:.3f} s ({figures[1]['cpu_median_s']:.2f}"
            f" s CPU)  wall {wall:.3f}x  CPU {cpu:.3f}x"
        )
    print(f"saved to {path}")


if __name__ == "__main__":
    main()
