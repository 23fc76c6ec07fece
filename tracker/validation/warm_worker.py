"""The warm validation worker that ``tracker serve`` keeps: a zygote that has imported torch.

``import torch`` alone takes seconds, so a cold ``submit`` can hardly be fast.
``tracker serve`` keeps one sandboxed process (``warm_zygote.py``) that has
imported torch and forks one child per job, inside bubblewrap with the same
isolation as a cold run (no network, no view of the database, home or lesson
reference code, nothing writable but the spool and a private /tmp). Jobs are
the runner's job directories, made in the spool; a ``WarmExecutor`` is the
runner's ``Executor`` for them, so cold and warm verdicts come from the same
``worker.run_job`` under the same ``Limits``.

What keeps it standing:

- the zygote is started and restarted from one long-lived thread: bubblewrap's
  ``--die-with-parent`` is tied to the *thread* that started it, so a zygote
  started from a request's thread would die when that request ends;
- a zygote that dies during a job (killed from outside, out of memory) is
  restarted at once, and the job runs again cold, so the submission still
  gets its verdict;
- a job can be cancelled (the learner pressed Ctrl-C): the zygote kills the
  child and answers ``interrupted``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from tracker.errors import EnvironmentProblem
from tracker.validation import sandbox
from tracker.validation.device import nvidia_driver_present
from tracker.validation.execution import Limits, RawRun
from tracker.validation.runner import InputStock
from tracker.validation.wire import MAX_MESSAGE_BYTES

HERE = Path(__file__).resolve().parent
ZYGOTE = HERE / "warm_zygote.py"
WORKER = HERE / "worker.py"
INSIDE = "/opt/tracker"  # where the two scripts appear in the sandbox
SPOOL_INSIDE = "/spool"
READY_TIMEOUT_S = 120.0
REPLY_SLACK_S = 30.0  # clean-up after a job's wall limit, before the zygote is presumed hung
# What the zygote watches, as the cold executor's ``_Watch`` does.
WATCH = {
    "tail_bytes": sandbox.TAIL_BYTES,
    "poll_s": sandbox.WATCH_INTERVAL_S,
    "out_max_files": sandbox.OUT_MAX_FILES,
}

Log = Callable[[str], None]


class WarmWorkerError(EnvironmentProblem):
    """The warm validation worker cannot start."""


class ZygoteDied(Exception):
    """The zygote exited or stopped answering."""


def zygote_command(spool: Path, *, sandboxed: bool) -> list[str]:
    """The zygote in the cold sandbox (``sandbox.sandbox_args``), the spool its only rw dir."""
    script = ["-B", f"{INSIDE}/warm_zygote.py", "--worker-dir", INSIDE]
    if not sandboxed:
        tmp = spool / ".tmp"
        script = ["-B", str(ZYGOTE), "--worker-dir", str(HERE)]
        return [sys.executable, *script, "--spool", str(spool), "--tmp", str(tmp)]
    argv = [sandbox.bwrap_path() or "bwrap", *sandbox.sandbox_args(gpu=nvidia_driver_present())]
    # PID 1 of its namespace: signals from the learner's children cannot reach it.
    if "--as-pid-1" not in argv:
        argv += ["--as-pid-1"]
    argv += ["--ro-bind", str(ZYGOTE), f"{INSIDE}/warm_zygote.py"]
    argv += ["--ro-bind", str(WORKER), f"{INSIDE}/worker.py"]
    argv += ["--bind", str(spool), SPOOL_INSIDE, "--remount-ro", "/", "--chdir", "/tmp"]
    return [*argv, "--", sys.executable, *script, "--spool", SPOOL_INSIDE, "--tmp", "/tmp"]


def zygote_env(spool: Path, *, sandboxed: bool) -> dict[str, str]:
    extra = {}
    if nvidia_driver_present():
        for name in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "NVIDIA_VISIBLE_DEVICES"):
            if name in os.environ:
                extra[name] = os.environ[name]
    if not sandboxed:
        extra["TMPDIR"] = str(spool / ".tmp")
    return sandbox.worker_env(sandbox.default_threads(), extra)


class Zygote:
    """One sandboxed zygote process and its request/reply pipes."""

    def __init__(self, spool: Path, *, sandboxed: bool) -> None:
        self.spool = spool
        self.sandboxed = sandboxed
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._buffer = bytearray()
        self._send_lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        if not self.sandboxed:
            (self.spool / ".tmp").mkdir(mode=0o700, exist_ok=True)
        self._buffer.clear()
        self.process = subprocess.Popen(
            zygote_command(self.spool, sandboxed=self.sandboxed),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=zygote_env(self.spool, sandboxed=self.sandboxed),
            cwd="/",
            start_new_session=True,
        )
        self.info = self._read_reply(time.monotonic() + READY_TIMEOUT_S)
        if not self.info.get("ready"):
            self.stop()
            raise ZygoteDied(f"the warm worker did not start: {self.info}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            # bwrap's --die-with-parent takes the whole PID namespace with it.
            os.killpg(process.pid, signal.SIGKILL)
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _send(self, message: dict[str, Any]) -> None:
        process = self.process
        if process is None or process.stdin is None:
            raise ZygoteDied("the warm worker is not running")
        try:
            with self._send_lock:
                process.stdin.write(json.dumps(message).encode() + b"\n")
                process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise ZygoteDied(f"cannot send to the warm worker: {exc}") from exc

    def run(self, job: str, limits: Limits) -> dict[str, Any]:
        """Run one job (callers serialise jobs); the zygote's reply."""
        if not self.alive:
            raise ZygoteDied("the warm worker is not running")
        watch = {**WATCH, "out_cap": 4 * limits.file_bytes}
        self._send({"job": job, "limits": asdict(limits), "watch": watch})
        return self._read_reply(time.monotonic() + limits.timeout_s + REPLY_SLACK_S)

    def cancel(self, job: str) -> None:
        """Kill job ``job``'s child if it is the one running (safe from any thread)."""
        with contextlib.suppress(ZygoteDied):
            self._send({"cancel": job})

    def _read_reply(self, deadline: float) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ZygoteDied("the warm worker stopped answering")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                code = self.process.wait()
                raise ZygoteDied(f"the warm worker exited with status {code}")
            self._buffer += chunk
            if len(self._buffer) > MAX_MESSAGE_BYTES:
                raise ZygoteDied("the warm worker sent an oversized reply")
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer[:] = rest
        try:
            reply = json.loads(line)
        except ValueError as exc:
            raise ZygoteDied(f"the warm worker sent garbage: {line[:200]!r}") from exc
        if not isinstance(reply, dict):
            raise ZygoteDied("the warm worker sent a non-object reply")
        return reply


def raw_run(reply: dict[str, Any], limits: Limits, outside_wall: float, isolation: str) -> RawRun:
    """A RawRun from the zygote's reply, with the cold executor's rules for limits."""
    reason = reply.get("reason") if isinstance(reply.get("reason"), str) else None
    code = reply.get("returncode") if isinstance(reply.get("returncode"), int) else None
    tail = str(reply.get("output_tail", ""))[-sandbox.TAIL_BYTES :]
    cpu = float(reply.get("cpu_s", 0.0))
    limit = reason if reason != "timeout" else None
    if reason is None:
        limit = sandbox._limit_from(code, cpu, tail, limits)
    return RawRun(
        returncode=None if reason == "timeout" else code,
        wall_s=min(float(reply.get("wall_s", outside_wall)), outside_wall),
        peak_rss_bytes=max(0, int(reply.get("peak_rss_bytes", 0))),
        isolation=isolation,
        timed_out=reason == "timeout",
        limit_hit=limit,
        output_tail=tail,
    )


class WarmWorker:
    """The zygote of one ``tracker serve``, its spool, and the cold fallback.

    The caller owns the spool (``tracker serve`` holds the database's serve
    lock): ``start`` empties it, ``close`` removes it.
    """

    def __init__(self, spool: Path, *, sandboxed: bool, log: Log) -> None:
        self.spool = spool
        self.sandboxed = sandboxed
        self.isolation = "bubblewrap (warm)" if sandboxed else "rlimits-only (warm)"
        self.log = log
        self.zygote = Zygote(spool, sandboxed=sandboxed)
        self.input_stock = InputStock()
        self._jobs = threading.Lock()  # one job at a time on the zygote
        # The one thread that starts zygotes: see the module docstring.
        self._keeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zygote-keeper")
        self.jobs = 0
        self.restarts = 0

    def start(self) -> None:
        """Prepare the spool, start the zygote, and make each lesson's inputs ahead of time."""
        if self.spool.is_symlink() or self.spool.is_file():
            self.spool.unlink()
        shutil.rmtree(self.spool, ignore_errors=True)
        self.spool.mkdir(mode=0o700)
        os.chmod(self.spool, 0o700)
        try:
            self._keeper.submit(self.zygote.start).result()
        except ZygoteDied as exc:
            raise WarmWorkerError(f"cannot start the warm validation worker: {exc}") from exc
        threading.Thread(
            target=_preload, args=(self.input_stock,), name="preload", daemon=True
        ).start()

    def close(self) -> None:
        """End the zygote (and every job in it) and remove the spool."""
        with contextlib.suppress(RuntimeError):  # the keeper may be shut down already
            self._keeper.submit(self.zygote.stop).result()
        self._keeper.shutdown(wait=True)
        shutil.rmtree(self.spool, ignore_errors=True)

    def executor(self, device: str) -> WarmExecutor:
        """An ``Executor`` for one validation on ``device`` (cancellable on its own)."""
        return WarmExecutor(self, device)

    def _restart(self) -> None:
        def restart() -> None:
            self.zygote.stop()
            try:
                self.zygote.start()
                self.restarts += 1
            except (ZygoteDied, OSError) as exc:
                self.log(f"cannot restart the warm worker: {exc}; will retry on the next job")
                self.zygote.stop()

        self._keeper.submit(restart).result()

    def run(
        self,
        job_dir: Path,
        limits: Limits,
        *,
        device: str,
        cancelled: threading.Event | None = None,
    ) -> RawRun:
        """Run one job on the zygote; if the zygote dies during it, run it again cold."""
        with self._jobs:
            if cancelled is not None and cancelled.is_set():
                return RawRun(None, 0.0, 0, self.isolation, limit_hit="interrupted")
            if not self.zygote.alive:
                self.log("starting the warm worker")
                self._restart()
            started = time.monotonic()
            try:
                reply = self.zygote.run(job_dir.name, limits)
            except ZygoteDied as exc:
                self.log(f"the warm worker failed during a job ({exc}); restarting it")
                self._restart()
                return self._run_cold(job_dir, limits, device)
            self.jobs += 1
        if "error" in reply:
            self.log(f"the warm worker could not run a job ({reply['error']}); running it cold")
            return self._run_cold(job_dir, limits, device)
        return raw_run(reply, limits, time.monotonic() - started, self.isolation)

    def _run_cold(self, job_dir: Path, limits: Limits, device: str) -> RawRun:
        # Whatever the interrupted run left in out/ must not be read as the cold run's.
        shutil.rmtree(job_dir / "out", ignore_errors=True)
        (job_dir / "out").mkdir()
        return sandbox.executor_for(device).run(job_dir, limits)

    def cancel(self, job_dir: Path) -> None:
        self.zygote.cancel(job_dir.name)


class WarmExecutor:
    """The runner's ``Executor`` for one validation on the warm worker.

    Job directories are made in the spool (``job_root``), complete before
    ``run`` (the zygote's child starts in milliseconds: no import to overlap
    with). ``cancel`` stops this validation's jobs and no others.
    """

    late_inputs = False

    def __init__(self, worker: WarmWorker, device: str) -> None:
        self.worker = worker
        self.device = device
        self.isolation = worker.isolation
        self.job_root = worker.spool
        self.input_stock = worker.input_stock
        self._cancelled = threading.Event()
        self._running: set[Path] = set()
        self._lock = threading.Lock()

    def run(self, job_dir: Path, limits: Limits) -> RawRun:
        job_dir = Path(job_dir)
        if job_dir.resolve().parent != self.job_root.resolve():
            raise ValueError(f"{job_dir} is not in the warm worker's spool")
        if self.device == "cuda" and limits.memory_bytes is not None:
            # As the cold executor: CUDA reserves more address space than RLIMIT_AS allows.
            limits = replace(limits, memory_bytes=None)
        if self._cancelled.is_set():
            return RawRun(None, 0.0, 0, self.isolation, limit_hit="interrupted")
        with self._lock:
            self._running.add(job_dir)
        try:
            return self.worker.run(job_dir, limits, device=self.device, cancelled=self._cancelled)
        finally:
            with self._lock:
                self._running.discard(job_dir)

    def cancel(self) -> None:
        """Kill this validation's running jobs; later ones do not start."""
        self._cancelled.set()
        with self._lock:
            running = list(self._running)
        for job_dir in running:
            self.worker.cancel(job_dir)


def _preload(stock: InputStock) -> None:
    """Import what judging needs (torch) and stock each lesson's inputs before the first submit."""
    # Judging here must not steal the cores the learner's child runs on: one
    # thread, and no OpenMP workers spinning between ops (read at libgomp start).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with contextlib.suppress(Exception):
        import safetensors.torch  # noqa: F401
        import torch

        torch.set_num_threads(1)

        from tracker.resources import lessons_dir
        from tracker.validation.runner import load_checks

        for checks in sorted(lessons_dir().glob("*/checks.py")):
            with contextlib.suppress(Exception):
                load_checks(checks.parent)
                stock.refill(checks.parent)


def open_warm_worker(spool: Path, *, require_isolation: bool, log: Log) -> WarmWorker:
    """A started warm worker: sandboxed when bubblewrap works here."""
    sandboxed = sandbox.bubblewrap_works()
    if not sandboxed:
        # The cold path's own refusal, word for word, when isolation is required.
        sandbox.executor_for(require_isolation=require_isolation)
        log("bubblewrap cannot run here: the warm worker has rlimits and Landlock only")
    worker = WarmWorker(spool, sandboxed=sandboxed, log=log)
    try:
        worker.start()
    except BaseException:
        worker.close()
        raise
    return worker
