"""Start-up cost of a daily read command: `tracker concepts` against the import floor.

Run: .venv/bin/python benchmarks/bench_startup.py [--runs 15]
The floor is `python -c "import sqlalchemy.orm, click"`: what any command must pay.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import FLOOR, save, summary, tracker_command, wall_times  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "TRACKER_DB": str(Path(tmp) / "bench.db"),
            "TRACKER_CONFIG": str(Path(tmp) / "c.toml"),
        }
        wall_times(tracker_command("init"), 1, env)  # schema and curriculum exist: the daily case
        wall_times(FLOOR, 2)  # warm the page cache for both
        floor = summary(wall_times(FLOOR, args.runs))
        concepts = summary(wall_times(tracker_command("concepts", "--json"), args.runs, env))
    ratio = round(concepts["median_s"] / floor["median_s"], 2)
    document = {"floor": floor, "tracker_concepts": concepts, "ratio": ratio}
    path = save("startup", document)
    print(f"floor  python -c 'import sqlalchemy.orm, click'  median {floor['median_s']:.3f} s")
    print(f"tracker concepts --json                          median {concepts['median_s']:.3f} s")
    print(f"ratio {ratio}x   ({args.runs} runs each; saved to {path})")


if __name__ == "__main__":
    main()
