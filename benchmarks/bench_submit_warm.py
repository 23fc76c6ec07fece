"""`tracker submit multi-head-attention-2`, cold and warm, against `import torch`.

Run: .venv/bin/python benchmarks/bench_submit_warm.py [--runs 7]

All in one run, medians of ``--runs`` fresh processes each:
- floor: ``python -c "import torch"``, what any cold validation pays at least;
- cold: ``tracker submit ... --json`` with no server (a bubblewrap worker per phase);
- warm: the same command while ``tracker serve`` runs; the JSON's ``isolation``
  says which path it took (``... (warm)``), reported as ``submit_path``;
- warm client: a fresh process doing only what a warm ``submit`` adds to the
  CLI start (``warm_validate``: one socket round trip, the server makes inputs,
  forks the sandboxed child, judges); shows the target even before ``submit``
  is wired to it;
- warm job: one forked worker run alone (``RawRun.wall_s``) and its round trip
  through ``WarmExecutor``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import save, summary, tracker_command, wall_times  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = "multi-head-attention-2"
SUBMISSION = ROOT / "tests" / "submissions" / LESSON / "correct.py"
TORCH_FLOOR = [sys.executable, "-c", "import torch"]
CLIENT = """
import sys
from pathlib import Path
from tracker.db.engine import resolve_location
from tracker.resources import lessons_dir
from tracker.validation.execution import Limits
from tracker.validation.warm import warm_validate
verdict = warm_validate(resolve_location(None), lessons_dir() / sys.argv[1],
                        Path(sys.argv[2]).read_bytes(), device="cpu", limits=Limits())
sys.exit(0 if verdict is not None and verdict.passed else 1)
"""


def _submit_isolation(env: dict[str, str]) -> str:
    done = subprocess.run(
        tracker_command("submit", LESSON, str(SUBMISSION), "--device", "cpu", "--json"),
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    return json.loads(done.stdout)["isolation"]


def _warm_jobs(db: Path, runs: int) -> tuple[dict, dict]:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_warm import make_job
    from tracker.validation.warm import warm_executor_for

    from tracker.db.engine import resolve_location
    from tracker.validation.execution import Limits

    executor = warm_executor_for(resolve_location(str(db)), timeout=5.0)
    assert executor is not None
    forks, trips = [], []
    for _ in range(runs + 1):
        job = make_job(executor.job_root, SUBMISSION.read_text())
        start = time.perf_counter()
        run = executor.run(job, Limits())
        trips.append(time.perf_counter() - start)
        forks.append(run.wall_s)
        assert run.returncode == 0, run.output_tail
    return summary(forks[1:]), summary(trips[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        config = Path(tmp) / "config.toml"
        config.write_text('timezone = "UTC"\n')
        env = {"TRACKER_DB": str(db), "TRACKER_CONFIG": str(config)}
        os.environ.update(env)
        submit = tracker_command("submit", LESSON, str(SUBMISSION), "--device", "cpu", "--json")
        client = [sys.executable, "-c", CLIENT, LESSON, str(SUBMISSION)]
        wall_times(tracker_command("init"), 1, env)
        wall_times(TORCH_FLOOR, 2)  # warm the page cache
        wall_times(submit, 1, env)
        floor = summary(wall_times(TORCH_FLOOR, args.runs))
        cold = summary(wall_times(submit, args.runs, env))

        log = Path(tmp) / "serve.log"
        serve = subprocess.Popen(
            tracker_command("serve"), env={**os.environ, **env}, stderr=log.open("w")
        )
        try:
            socket_path = db.with_name(db.name + ".sock")
            deadline = time.monotonic() + 60
            while not socket_path.exists():
                if serve.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"tracker serve did not start:\n{log.read_text()}")
                time.sleep(0.1)
            wall_times(client, 2, env)  # the server's first validate loads the checks
            path = _submit_isolation(env)
            warm = summary(wall_times(submit, args.runs, env))
            warm_client = summary(wall_times(client, args.runs, env))
            fork, trip = _warm_jobs(db, args.runs)
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(30)

    def ratio(x: dict) -> float:
        return round(x["median_s"] / floor["median_s"], 3)

    document = {
        "floor_import_torch": floor,
        "cold_submit": cold,
        "warm_submit": warm,
        "submit_path": path,
        "warm_client": warm_client,
        "warm_job_fork": fork,
        "warm_job_round_trip": trip,
        "ratios_to_floor": {
            "cold_submit": ratio(cold),
            "warm_submit": ratio(warm),
            "warm_client": ratio(warm_client),
            "warm_job_round_trip": ratio(trip),
        },
        "cpu_count": os.cpu_count(),
    }
    saved = save("submit_warm", document)
    print(f"floor  python -c 'import torch'        median {floor['median_s']:.3f} s")
    print(f"cold   tracker submit                  median {cold['median_s']:.3f} s  {ratio(cold)}x")
    print(f"warm   tracker submit ({path:<18}) median {warm['median_s']:.3f} s  {ratio(warm)}x")
    print(
        f"warm   client (warm_validate)          median {warm_client['median_s']:.3f} s  "
        f"{ratio(warm_client)}x"
    )
    print(
        f"warm   job: fork+run {statistics.median([fork['median_s']]):.3f} s, "
        f"round trip {trip['median_s']:.3f} s  {ratio(trip)}x"
    )
    print(f"({args.runs} runs each; saved to {saved})")


if __name__ == "__main__":
    main()
