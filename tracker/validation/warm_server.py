"""The trusted side of the warm worker: the socket server inside ``tracker serve``.

It owns the socket and the spool (``tracker.validation.warm``), starts the
zygote (``warm_zygote.py``) inside bubblewrap with the same isolation as a
cold run (no network, no view of the database, home or lesson reference code,
nothing writable but the spool and a private /tmp), and forwards job names and
limits to it, one job at a time. Results travel back unchanged except for type
checks: the server never reads a job's files.

If the zygote dies (killed from outside, out of memory), the job in flight is
answered with an error (the client re-runs it cold when it can) and a fresh
zygote is started at once. A ping is answered even while a job runs.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from tracker.db.location import DatabaseLocation, resolve_location
from tracker.errors import EnvironmentProblem, TrackerError
from tracker.validation import sandbox
from tracker.validation.device import nvidia_driver_present
from tracker.validation.execution import Limits, RawRun
from tracker.validation.runner import InputStock
from tracker.validation.warm import (
    MAX_MESSAGE_BYTES,
    WarmPaths,
    WarmWorkerError,
    raw_run_from,
    receive_message,
    request,
    run_in_spool,
    send_message,
    socket_address,
    warm_paths,
)

HERE = Path(__file__).resolve().parent
ZYGOTE = HERE / "warm_zygote.py"
WORKER = HERE / "worker.py"
INSIDE = "/opt/tracker"  # where the two scripts appear in the sandbox
SPOOL_INSIDE = "/spool"
READY_TIMEOUT_S = 120.0
REPLY_SLACK_S = 30.0  # clean-up after a job's wall limit, before the zygote is presumed hung
CLIENT_READ_TIMEOUT_S = 5.0
JOB_NAME_MAX = 200
# What the zygote watches, as the cold executor's ``_Watch`` does.
WATCH = {
    "tail_bytes": sandbox.TAIL_BYTES,
    "poll_s": sandbox.WATCH_INTERVAL_S,
    "out_max_files": sandbox.OUT_MAX_FILES,
}

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(f"tracker serve: {message}", file=sys.stderr, flush=True)


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


class ServeAlreadyRunning(EnvironmentProblem):
    """Another ``tracker serve`` already answers on this database's socket."""


class ZygoteDied(Exception):
    """The zygote exited or stopped answering."""


class Zygote:
    """One sandboxed zygote process and its request/reply pipes."""

    def __init__(self, spool: Path, *, sandboxed: bool, log: Log) -> None:
        self.spool = spool
        self.sandboxed = sandboxed
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._buffer = bytearray()

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

    def run(self, job: str, limits: Limits) -> dict[str, Any]:
        if not self.alive:
            raise ZygoteDied("the warm worker is not running")
        assert self.process is not None and self.process.stdin is not None
        watch = {**WATCH, "out_cap": 4 * limits.file_bytes}
        line = json.dumps({"job": job, "limits": _limits_dict(limits), "watch": watch}) + "\n"
        try:
            self.process.stdin.write(line.encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise ZygoteDied(f"cannot send the job: {exc}") from exc
        return self._read_reply(time.monotonic() + limits.timeout_s + REPLY_SLACK_S)

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


def _limits_dict(limits: Limits) -> dict[str, Any]:
    return {f.name: getattr(limits, f.name) for f in fields(Limits)}


def parse_limits(raw: Any) -> Limits:
    """Limits from a client, each field typed and bounded; ValueError otherwise."""
    if not isinstance(raw, dict):
        raise ValueError("limits must be an object")
    unknown = set(raw) - {f.name for f in fields(Limits)}
    if unknown:
        raise ValueError(f"unknown limits: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or (value is not None and not isinstance(value, int | float)):
            raise ValueError(f"limit {key} must be a number")
        if value is None and key != "memory_bytes":
            raise ValueError(f"limit {key} must be a number")
        if value is not None and value <= 0:
            raise ValueError(f"limit {key} must be positive")
        values[key] = value if key == "timeout_s" or value is None else int(value)
    if float(values.get("timeout_s", 0) or 0) > 24 * 3600:
        raise ValueError("timeout_s is over a day")
    return Limits(**values)


def valid_job_name(name: Any) -> bool:
    return (
        isinstance(name, str)
        and 0 < len(name) <= JOB_NAME_MAX
        and name not in {".", ".."}
        and not name.startswith(".")
        and all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    )


class WarmServer:
    """The socket, the spool and the zygote of one database's ``tracker serve``."""

    def __init__(self, paths: WarmPaths, *, sandboxed: bool, log: Log = _stderr) -> None:
        self.paths = paths
        self.sandboxed = sandboxed
        self.isolation = "bubblewrap (warm)" if sandboxed else "rlimits-only (warm)"
        self.log = log
        self.zygote = Zygote(paths.spool, sandboxed=sandboxed, log=log)
        self._lock = threading.Lock()
        self._submit_lock = threading.Lock()  # a handed-off submit swaps the process's env
        self.input_stock = InputStock()
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._owner = False
        self.jobs = 0

    # --- life cycle
    def start(self) -> None:
        """Claim the socket, prepare the spool, start the zygote, then listen."""
        if request_quietly(self.paths.socket):
            raise ServeAlreadyRunning(
                f"tracker serve already runs for this database (socket {self.paths.socket})"
            )
        self._owner = True  # from here on, the socket and spool are ours to remove
        with contextlib.suppress(FileNotFoundError):
            self.paths.socket.unlink()
        if self.paths.spool.is_symlink() or self.paths.spool.is_file():
            self.paths.spool.unlink()
        shutil.rmtree(self.paths.spool, ignore_errors=True)
        self.paths.spool.mkdir(mode=0o700)
        os.chmod(self.paths.spool, 0o700)
        self.zygote.start()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            with socket_address(self.paths.socket) as address:
                listener.bind(address)
        finally:
            os.umask(old)
        os.chmod(self.paths.socket, 0o600)
        listener.listen(16)
        listener.settimeout(0.5)
        self._listener = listener
        threading.Thread(
            target=_preload, args=(self.input_stock,), name="preload", daemon=True
        ).start()

    def serve_forever(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    break
                raise
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        """Remove the socket, end the zygote (and every job in it), remove the spool."""
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            self.zygote.stop()
        if self._owner:
            with contextlib.suppress(FileNotFoundError):
                self.paths.socket.unlink()
            shutil.rmtree(self.paths.spool, ignore_errors=True)

    # --- one connection
    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                if not self._peer_is_us(conn):
                    send_message(conn, {"ok": False, "error": "not your server"})
                    return
                conn.settimeout(CLIENT_READ_TIMEOUT_S)
                message = receive_message(conn)
                conn.settimeout(None)
                send_message(conn, self.answer(message))
            except (OSError, ValueError) as exc:
                with contextlib.suppress(OSError):
                    send_message(conn, {"ok": False, "error": f"bad request: {exc}"})

    @staticmethod
    def _peer_is_us(conn: socket.socket) -> bool:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return uid == os.geteuid()

    def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        op = message.get("op")
        if op == "ping":
            return {
                "ok": True,
                "isolation": self.isolation,
                "spool": str(self.paths.spool),
                "zygote_pid": self.zygote.pid,
                "landlock_abi": self.zygote.info.get("landlock", 0),
                "jobs": self.jobs,
            }
        if op == "validate":
            return self._validate(message)
        if op == "submit":
            return self._submit(message)
        if op != "run":
            return {"ok": False, "error": f"unknown op {op!r}"}
        name = message.get("job")
        if not valid_job_name(name):
            return {"ok": False, "error": "invalid job name"}
        job = self.paths.spool / name
        if job.is_symlink() or not (job / "job.json").is_file():
            return {"ok": False, "error": f"no job {name} in the spool"}
        try:
            limits = parse_limits(message.get("limits", {}))
        except (TypeError, ValueError) as exc:
            return {"ok": False, "error": f"invalid limits: {exc}"}
        return self._run(name, limits)

    def _run(self, name: str, limits: Limits) -> dict[str, Any]:
        with self._lock:
            try:
                if not self.zygote.alive:
                    self.log("starting the warm worker")
                    self.zygote.start()
                started = time.monotonic()
                reply = self.zygote.run(name, limits)
                outside_wall = time.monotonic() - started
            except ZygoteDied as exc:
                self.log(f"warm worker failed during job {name}: {exc}; restarting it")
                self._restart()
                return {"ok": False, "error": f"the warm worker failed during this job: {exc}"}
            self.jobs += 1
        if "error" in reply:
            return {
                "ok": False,
                "error": f"the warm worker could not run the job: {reply['error']}",
            }
        return {
            "ok": True,
            "isolation": self.isolation,
            "run": raw_fields(reply, limits, outside_wall),
        }

    def _validate(self, message: dict[str, Any]) -> dict[str, Any]:
        """A whole validation here, where torch is already imported; only jobs go to the zygote."""
        from tracker.resources import lessons_dir
        from tracker.validation.runner import start_validation

        try:
            lesson_dir = Path(str(message["lesson_dir"]))
            source = base64.b64decode(str(message["source"]), validate=True)
            limits = parse_limits(message.get("limits", {}))
            seed = message.get("seed")
            if seed is not None and not isinstance(seed, int):
                raise ValueError("seed must be a whole number")
            # checks.py runs in this process: only the tracker's own lessons qualify.
            if (
                lesson_dir.resolve().parent != lessons_dir().resolve()
                or not (lesson_dir / "checks.py").is_file()
            ):
                raise ValueError(f"{lesson_dir} is not one of the tracker's exercise lessons")
            pending = start_validation(
                lesson_dir,
                source,
                device=str(message.get("device", "auto")),
                limits=limits,
                executor=_LocalExecutor(self),
                seed=seed,
            )
            verdict = pending.result()
        except Exception as exc:  # noqa: BLE001 - the client falls back to the cold path
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        return {"ok": True, "verdict": verdict.as_dict()}

    def _submit(self, message: dict[str, Any]) -> dict[str, Any]:
        """A whole `tracker submit` handed off by ``tracker.handoff``, run as the client would.

        The very CLI command runs here, with the client's environment and its
        database, on this server's warm worker; the client prints what it printed.
        """
        from click.testing import CliRunner

        from tracker.cli import cli
        from tracker.handoff import PASSED_ENV, PASSED_ENV_PREFIXES
        from tracker.submission import executor_override

        args, db, env = message.get("args"), message.get("db"), message.get("env")
        if (
            not isinstance(args, list)
            or not all(isinstance(a, str) for a in args)
            or not (db is None or isinstance(db, str))
            or not isinstance(env, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
        ):
            return {"ok": False, "error": "malformed submit request"}
        try:
            same = db is not None and warm_paths(resolve_location(db)) == self.paths
        except TrackerError:
            same = False
        if not same:
            return {"ok": False, "error": "this server validates for another database"}
        overlay: dict[str, str | None] = {
            key: None
            for key in os.environ
            if key in PASSED_ENV or key.startswith(PASSED_ENV_PREFIXES)
        }
        overlay.update(env)
        argv = (["--db", db] if db is not None else []) + ["submit", *args]
        with self._submit_lock, executor_override(_LocalExecutor(self)):
            result = CliRunner().invoke(
                cli, argv, env=overlay, color=bool(message.get("color")), prog_name="tracker"
            )
        stderr = result.stderr
        code = result.exit_code
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            self.log(f"submit failed inside serve: {result.exception!r}")
            stderr += (
                f"Error: tracker serve failed while running this submit "
                f"({type(result.exception).__name__}: {result.exception}); "
                "stop `tracker serve` to validate without it\n"
            )
            code = 3
        return {"ok": True, "stdout": result.stdout, "stderr": stderr, "exit_code": code}

    def _restart(self) -> None:
        self.zygote.stop()
        try:
            self.zygote.start()
        except (ZygoteDied, OSError) as exc:
            self.log(f"cannot restart the warm worker: {exc}; will retry on the next job")
            self.zygote.stop()


class _LocalExecutor:
    """The server's own executor for ``validate``: job dirs in the spool, runs on the zygote."""

    late_inputs = False

    def __init__(self, server: WarmServer) -> None:
        self.server = server
        self.isolation = server.isolation
        self.job_root = server.paths.spool
        self.input_stock = server.input_stock

    def run(self, job_dir: Path, limits: Limits) -> RawRun:
        job_dir = Path(job_dir)
        if job_dir.resolve().parent != self.job_root.resolve():
            return run_in_spool(job_dir, self.job_root, limits, self.run)
        reply = self.server._run(job_dir.name, limits)
        if not reply.get("ok"):
            raise WarmWorkerError(str(reply.get("error")))
        return raw_run_from(reply["run"], self.isolation)


def raw_fields(reply: dict[str, Any], limits: Limits, outside_wall: float) -> dict[str, Any]:
    """RawRun fields from the zygote's reply, with the cold executor's rules for limits."""
    reason = reply.get("reason") if isinstance(reply.get("reason"), str) else None
    code = reply.get("returncode") if isinstance(reply.get("returncode"), int) else None
    tail = str(reply.get("output_tail", ""))[-sandbox.TAIL_BYTES :]
    cpu = float(reply.get("cpu_s", 0.0))
    limit = reason if reason != "timeout" else None
    if reason is None:
        limit = sandbox._limit_from(code, cpu, tail, limits)
    return {
        "returncode": None if reason == "timeout" else code,
        "wall_s": min(float(reply.get("wall_s", outside_wall)), outside_wall),
        "peak_rss_bytes": max(0, int(reply.get("peak_rss_bytes", 0))),
        "timed_out": reason == "timeout",
        "limit_hit": limit,
        "output_tail": tail,
    }


def _preload(stock: InputStock) -> None:
    """Import what ``validate`` needs (torch, for inputs and judging) before the first submit."""
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


def request_quietly(path: Path) -> bool:
    """True when something already answers a ping on ``path``."""
    try:
        return bool(request(path, {"op": "ping"}, timeout=1.0).get("ok"))
    except (OSError, ValueError):
        return False


def open_warm_server(
    location: DatabaseLocation, *, require_isolation: bool, log: Log = _stderr
) -> WarmServer:
    """A started warm server for ``location``: sandboxed when bubblewrap works here."""
    sandboxed = sandbox.bubblewrap_works()
    if not sandboxed:
        # The cold path's own refusal, word for word, when isolation is required.
        sandbox.executor_for(require_isolation=require_isolation)
        log("bubblewrap cannot run here: the warm worker has rlimits and Landlock only")
    server = WarmServer(warm_paths(location), sandboxed=sandboxed, log=log)
    try:
        server.start()
    except ZygoteDied as exc:
        server.close()
        raise WarmWorkerError(f"cannot start the warm validation worker: {exc}") from exc
    except BaseException:
        server.close()
        raise
    return server
