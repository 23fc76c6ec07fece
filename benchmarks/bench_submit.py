"""Cost of a cold `tracker submit` against the floor every cold submit pays: `import torch`.

Run: .venv/bin/python benchmarks/bench_submit.py [--runs 7] [--warm]

A cold submit imports torch twice, in the sandboxed worker and in the trusted
process that makes inputs and judges; the runner overlaps the two, so the
target is a small multiple of one `python -c "import torch"`. Floor and submit
runs are interleaved so a busy machine slows both alike. Also measured: the
bubblewrap start-up overhead (the same `python -c pass` with and without the
sandbox) and a three-phase lesson (flash-attention-3: three workers).

`--warm` times the same submit while `tracker serve` keeps a warm worker for
the benchmark's database; it is skipped when no such server answers.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import save, summary, tracker_command, wall_times  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MHA = ROOT / "tests/submissions/multi-head-attention-2/correct.py"
FLASH = ROOT / "tests/submissions/flash-attention-3/correct_kv_outer.py"
TORCH_FLOOR = [sys.executable, "-c", "import torch"]


def interleaved(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict:
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name] += wall_times(command, 1, env)
    return {name: summary(values) for name, values in times.items()}


def bwrap_overhead(runs: int) -> dict | None:
    """Median wall time of `python -c pass` inside the sandbox minus outside, in ms."""
    from tracker.validation import sandbox

    if not sandbox.bubblewrap_works():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp)
        (job / "out").mkdir()
        (job / "worker.py").write_text("pass\n")
        inside = sandbox.ColdExecutor().command(job)
        plain = [sys.executable, "-B", str(job / "worker.py"), str(job)]
        pairs = {"plain": plain, "bwrap": inside}
        times: dict[str, list[float]] = {"plain": [], "bwrap": []}
        for _ in range(runs):
            for name, command in pairs.items():
                start = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, cwd="/")
                times[name].append(time.perf_counter() - start)
    plain_ms = statistics.median(times["plain"]) * 1000
    bwrap_ms = statistics.median(times["bwrap"]) * 1000
    return {
        "python_pass_ms": round(plain_ms, 1),
        "python_pass_in_bwrap_ms": round(bwrap_ms, 1),
        "overhead_ms": round(bwrap_ms - plain_ms, 1),
        "runs": runs,
    }


def warm_submit(env: dict[str, str], runs: int) -> dict | None:
    """Times submit while `tracker serve` keeps a warm worker for the benchmark's database.

    Starts that server for the run (and stops it after) unless one already answers;
    None when it cannot start. `benchmarks/bench_submit_warm.py` breaks the warm
    path down further (the client alone, one forked job).
    """
    import os
    import signal

    from tracker.validation.warm import ping, warm_paths

    from tracker.db.engine import resolve_location

    paths = warm_paths(resolve_location(env["TRACKER_DB"]))
    serve = None
    if ping(paths.socket) is None:
        serve = subprocess.Popen(
            tracker_command("serve"),
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while ping(paths.socket) is None:
            if serve.poll() is not None or time.monotonic() > deadline:
                serve.kill()
                return None
            time.sleep(0.1)
    try:
        submit = tracker_command("submit", "multi-head-attention-2", str(MHA))
        wall_times(submit, 1, env)  # the server's first validation loads the lesson's checks
        return summary(wall_times(submit, runs, env))
    finally:
        if serve is not None:
            serve.send_signal(signal.SIGTERM)
            serve.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warm", action="store_true", help="also time a warm submit")
    parser.add_argument("--no-flash", action="store_true", help="skip flash-attention-3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "TRACKER_DB": str(Path(tmp) / "bench.db"),
            "TRACKER_CONFIG": str(Path(tmp) / "c.toml"),
        }
        wall_times(tracker_command("init"), 1, env)
        submit = tracker_command("submit", "multi-head-attention-2", str(MHA))
        wall_times(TORCH_FLOOR, 1)  # warm the page cache for both
        wall_times(submit, 1, env)
        cold = interleaved({"floor": TORCH_FLOOR, "submit": submit}, args.runs, env)
        flash = None
        if not args.no_flash:
            flash_cmd = tracker_command("submit", "flash-attention-3", str(FLASH))
            flash = summary(wall_times(flash_cmd, max(3, args.runs // 2), env))
        overhead = bwrap_overhead(max(20, args.runs * 3))
        warm = warm_submit(env, args.runs) if args.warm else None
    ratio = round(cold["submit"]["median_s"] / cold["floor"]["median_s"], 2)
    document = {
        "floor_import_torch": cold["floor"],
        "cold_submit_mha": cold["submit"],
        "ratio": ratio,
        "cold_submit_flash_attention_3": flash,
        "bwrap": overhead,
        "warm_submit_mha": warm,
    }
    path = save("submit", document)
    print(
        f"floor  python -c 'import torch'                 median {cold['floor']['median_s']:.3f} s"
    )
    print(
        f"tracker submit multi-head-attention-2 (cold)    median {cold['submit']['median_s']:.3f} s"
    )
    print(f"ratio {ratio}x   ({args.runs} interleaved runs each)")
    if flash:
        print(f"tracker submit flash-attention-3 (3 workers)   median {flash['median_s']:.3f} s")
    if overhead:
        print(
            f"bubblewrap start-up overhead {overhead['overhead_ms']:.1f} ms "
            f"(python -c pass: {overhead['python_pass_ms']:.1f} ms plain, "
            f"{overhead['python_pass_in_bwrap_ms']:.1f} ms sandboxed)"
        )
    else:
        print("bubblewrap: unavailable here, overhead not measured")
    if args.warm:
        if warm:
            print(f"tracker submit (warm, tracker serve)           median {warm['median_s']:.3f} s")
        else:
            print("warm: skipped (no `tracker serve` answering for the benchmark's database)")
    print(f"saved to {path}")


if __name__ == "__main__":
    main()
