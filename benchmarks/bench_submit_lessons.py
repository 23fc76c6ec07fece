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
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import save, summary, tracker_command, wall_times  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
TORCH_FLOOR = [sys.executable, "-c", "import torch"]
TARGET = 1.3


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
            floor, cold = [], []
            for _ in range(args.runs):
                floor += wall_times(TORCH_FLOOR, 1)
                cold += wall_times(submit, 1, env)
            ratio = round(statistics.median(cold) / statistics.median(floor), 2)
            results[lesson] = {"floor": summary(floor), "submit": summary(cold), "ratio": ratio}
            print(
                f"{lesson:32} submit {statistics.median(cold):.3f} s  import torch "
                f"{statistics.median(floor):.3f} s  ratio {ratio:.2f}x "
                f"({'ok' if ratio <= TARGET else 'over'} {TARGET}x)",
                flush=True,
            )
    path = save("submit_lessons", {"runs": args.runs, "target": TARGET, "lessons": results})
    print(f"({args.runs} alternating runs each) saved to {path}")


if __name__ == "__main__":
    main()
