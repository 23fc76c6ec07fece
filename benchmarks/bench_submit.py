"""`tracker submit` cold and warm for every exercise lesson, against ``python -c "import torch"``.

Every lesson with a checks.py submits its own reference solution (every check runs
and passes). Cold: no server, a bubblewrap sandbox per phase; it imports torch in
the sandboxed worker and in the trusted judge (overlapped), so its goal is 1.3x one
``import torch``. Warm: the same command while `tracker serve` keeps a warm worker
for the database (the client hands the job over a socket; the JSON's ``isolation``
says which path ran); goal 0.1x. Each submit alternates with the floor, run by run.
Also: peak RSS of a cold submit (the largest process of its tree: the judge or the
sandboxed worker).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.harness import (
    ROOT,
    BenchmarkError,
    Context,
    Figure,
    Process,
    compared,
    interleave,
    peak_rss_figure,
    python_command,
    tracker_command,
)
from benchmarks.workspace import init, tracker_env

LESSONS = ROOT / "lessons"
FLOOR = 'python -c "import torch"'
COLD_GOAL, WARM_GOAL = 1.3, 0.1


def exercise_lessons() -> list[str]:
    return sorted(p.parent.name for p in LESSONS.glob("*/checks.py"))


def submit(lesson: str, env: dict[str, str]) -> Process:
    reference = LESSONS / lesson / "reference.py"
    return Process(tracker_command("submit", lesson, str(reference), "--json"), env)


def isolation(process: Process) -> str:
    return json.loads(process.last_stdout)["isolation"]


def start_serve(env: dict[str, str], log: Path) -> subprocess.Popen:
    import os

    socket = Path(env["TRACKER_DB"] + ".sock")
    with log.open("w") as out:
        serve = subprocess.Popen(tracker_command("serve"), env={**os.environ, **env},
                                 stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 120
    while not socket.exists():
        if serve.poll() is not None or time.monotonic() > deadline:
            serve.kill()
            raise BenchmarkError(f"tracker serve did not start: {log.read_text()[-300:]}")
        time.sleep(0.2)
    return serve


def run(ctx: Context) -> Iterator[Figure]:
    lessons = exercise_lessons() if not ctx.quick else ["attention-mechanism-1"]
    env = tracker_env(ctx.tmp, "submit")
    init(env)
    torch = Process(python_command("import torch"), env)
    runs, warmup = ctx.runs_for(3), ctx.warmups()
    cold_rss = Process([])
    for lesson in lessons:
        cold = submit(lesson, env)
        t = interleave({"floor": torch, "submit": cold}, runs=runs, warmup=warmup)
        cold_rss.rss_kib += cold.rss_kib[-runs:]
        yield compared(f"submit {lesson} (cold)", t["submit"], FLOOR, t["floor"],
                       max_ratio=COLD_GOAL, note=isolation(cold))  # fmt: skip
    serve = start_serve(env, ctx.tmp / "serve.log")
    try:
        for lesson in lessons:
            warm = submit(lesson, env)
            warm()  # the server's first validation of a lesson loads its checks
            t = interleave({"floor": torch, "submit": warm}, runs=runs, warmup=0)
            path = isolation(warm)
            note = path if "warm" in path else f"ran {path}, not warm"
            yield compared(f"submit {lesson} (warm)", t["submit"], FLOOR, t["floor"],
                           max_ratio=WARM_GOAL, note=note)  # fmt: skip
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(60)
    yield peak_rss_figure("submit (cold, every lesson) peak RSS", cold_rss)
