"""Cold executors: run ``python worker.py JOB_DIR`` in a fresh, limited process.

``ColdExecutor`` puts the worker in a bubblewrap sandbox: every namespace
unshared (no network: the new net namespace has only loopback), a new PID
namespace that dies with its init, a read-only view of the system and of the
Python installation, a private size-capped /tmp, and the job directory
read-only except ``out/``. The database, $HOME, the repository and the lessons'
reference.py/checks.py are simply not there. Where bubblewrap cannot run,
``RlimitsOnlyExecutor`` keeps the same resource limits and clean-up but no
isolation; ``executor_for`` picks one and refuses when isolation is required.

Limits (``tracker.validation.execution.Limits``) are set in the child before
exec (RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_CORE) and
watched from outside: the wall clock, the size of stdout+stderr, the number of
processes (RLIMIT_NPROC does not bind root) and the bytes written to ``out/``.
Every run ends by killing whatever is left of it. Peak RSS comes from
``os.wait4`` on the child: ru_maxrss covers the reaped descendants too, so
with ``--as-pid-1`` (bwrap reaps the worker directly) it is the worker's peak.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path

from tracker.errors import EnvironmentProblem
from tracker.validation.execution import Limits, MiB, RawRun
from tracker.validation.worker import dir_usage

JOB_MOUNT = "/job"
SANDBOX_UID = 65534  # "nobody" inside the user namespace; still the caller's uid outside
TMP_BYTES = 64 * MiB  # the sandbox's private /tmp is memory: keep it small
TAIL_BYTES = 8 * 1024  # of stdout+stderr, for messages
OUT_MAX_FILES = 64
WATCH_INTERVAL_S = 0.05
MAX_INPUT_WAIT_S = 30.0  # at most this much runner time is added to a run's wall-clock limit
KILL_GRACE_S = 2.0
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/alternatives",
)
# Python's own allocator failure and torch's.
MEMORY_MARKERS = (
    "MemoryError",
    "can't allocate memory",
    "Cannot allocate memory",
    "std::bad_alloc",
)
FILE_SIZE_MARKERS = ("File too large", "EFBIG")
WORKER = Path(__file__).with_name("worker.py")


class SandboxUnavailable(EnvironmentProblem):
    """Isolation is required but bubblewrap cannot run here."""


# --- processes -------------------------------------------------------------------------------


def _process_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, session id, start time) for every process we can see."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2 :].split()
        try:
            table[int(entry.name)] = (int(fields[1]), int(fields[3]), int(fields[19]))
        except (IndexError, ValueError):
            continue
    return table


def _descendants(table: dict[int, tuple[int, int, int]], root: int) -> dict[int, int]:
    """pid -> start time of every process below ``root`` (not ``root`` itself)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _sid, _start) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, int] = {}
    stack = list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        found[pid] = table[pid][2]
        stack.extend(children.get(pid, ()))
    return found


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


# --- limits ----------------------------------------------------------------------------------


def _clamp(kind: int, soft: int, hard: int) -> tuple[int, int]:
    _, current_hard = resource.getrlimit(kind)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    return soft, hard


def rlimits_for(limits: Limits) -> list[tuple[int, tuple[int, int]]]:
    """The rlimits a worker runs under, clamped to what this process may grant."""
    nproc = limits.processes
    if os.getuid() != 0:
        # RLIMIT_NPROC counts every process of the real uid, the caller's desktop included.
        nproc += _user_process_count()
    wanted = [
        (resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 5)),  # SIGXCPU first, then SIGKILL
        (resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes)),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NPROC, (nproc, nproc)),
    ]
    if limits.memory_bytes is not None:
        wanted.append((resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes)))
    return [(kind, _clamp(kind, *values)) for kind, values in wanted]


PR_SET_PDEATHSIG = 1  # linux/prctl.h


@cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up before any fork (None where there is none)."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _preexec(
    rlimits: list[tuple[int, tuple[int, int]]], *, die_with_parent: bool = False
) -> Callable[[], None]:
    """What the child does between fork and exec: its rlimits, and perhaps a death signal.

    ``die_with_parent`` asks the kernel to SIGKILL the worker (or the bwrap
    around it) when the thread that started it ends, as bwrap's
    ``--die-with-parent`` does for a sandbox once bwrap runs: a tracker killed
    with SIGKILL must not leave the learner's code running.
    """
    # Runs between fork and exec: nothing here may import or take a lock.
    setrlimit = resource.setrlimit
    prctl = _prctl() if die_with_parent else None
    parent, getppid, kill_signal = os.getpid(), os.getppid, int(signal.SIGKILL)

    def apply() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, kill_signal)
            if getppid() != parent:  # the parent died before the death signal was armed
                os._exit(1)
        for kind, values in rlimits:
            setrlimit(kind, values)

    return apply


def worker_env(threads: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The worker's whole environment: nothing of the caller's leaks in."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    env.update(extra or {})
    return env


def default_threads() -> int:
    # As the runner's job.json: one intra-op thread (small tensors; OpenMP threads
    # spin-waiting on a busy machine cost more than they save).
    return 1


# --- executors -------------------------------------------------------------------------------


class _ProcessExecutor:
    """Runs one worker process tree under limits and watches it from outside."""

    isolation = "none"
    die_with_parent = False  # the kernel kills the worker with this process (see _preexec)
    # The worker may start before job.json and the inputs exist (see worker.py):
    # the runner then makes the inputs while the worker imports torch.
    late_inputs = True

    def __init__(self, *, device: str = "cpu", threads: int | None = None) -> None:
        self.device = device
        self.threads = threads or default_threads()
        self._running: set[_Watch] = set()
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Kill every run in progress (the runner is giving up: an error, Ctrl-C)."""
        with self._lock:
            running = list(self._running)
        for watch in running:
            watch.kill("interrupted")

    def command(self, job_dir: Path) -> list[str]:
        raise NotImplementedError

    def cwd(self, job_dir: Path) -> str:
        return str(job_dir)

    def env(self) -> dict[str, str]:
        extra = {}
        if self.device == "cuda":
            for name in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "NVIDIA_VISIBLE_DEVICES"):
                if name in os.environ:
                    extra[name] = os.environ[name]
        return worker_env(self.threads, extra)

    def run(self, job_dir: Path, limits: Limits) -> RawRun:
        job_dir = Path(job_dir)
        if self.device == "cuda" and limits.memory_bytes is not None:
            # The CUDA driver reserves far more address space than any RLIMIT_AS allows.
            limits = replace(limits, memory_bytes=None)
        start = time.perf_counter()
        child = subprocess.Popen(
            self.command(job_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.cwd(job_dir),
            env=self.env(),
            start_new_session=True,
            preexec_fn=_preexec(  # noqa: PLW1509 - only setrlimit and prctl
                rlimits_for(limits), die_with_parent=self.die_with_parent
            ),
            close_fds=True,
        )
        watch = _Watch(child, job_dir / "out", limits)
        with self._lock:
            self._running.add(watch)
        try:
            try:
                _, status, usage = os.wait4(child.pid, 0)
            except BaseException:
                watch.kill("interrupted")
                os.wait4(child.pid, 0)
                raise
            finally:
                watch.finish()
        finally:
            with self._lock:
                self._running.discard(watch)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        code = child.returncode
        if self.isolation == "bubblewrap" and code is not None and code > 128:
            code = -(code - 128)  # bwrap reports a child killed by signal N as 128 + N
        cpu = usage.ru_utime + usage.ru_stime
        limit = watch.reason if watch.reason not in (None, "timeout", "interrupted") else None
        if limit is None and watch.reason is None:
            limit = _limit_from(code, cpu, watch.tail(), limits)
        return RawRun(
            returncode=None if watch.reason == "timeout" else code,
            wall_s=wall,
            peak_rss_bytes=usage.ru_maxrss * 1024,  # kilobytes on Linux
            isolation=self.isolation,
            timed_out=watch.reason == "timeout",
            limit_hit=limit,
            output_tail=watch.tail(),
        )


def _limit_from(code: int | None, cpu_s: float, tail: str, limits: Limits) -> str | None:
    """Which rlimit a run that ended on its own ran into, if any.

    The output is only read for a run that failed: a correct submission that
    prints "MemoryError" in a debug line must not fail for it.
    """
    if code == -signal.SIGXCPU or (code == -signal.SIGKILL and cpu_s >= limits.cpu_s):
        return "cpu"
    if code == -signal.SIGXFSZ:
        return "file size"
    if code == 0:
        return None
    if any(marker in tail for marker in FILE_SIZE_MARKERS):
        return "file size"
    if limits.memory_bytes is not None and any(marker in tail for marker in MEMORY_MARKERS):
        return "memory"
    return None


class _Watch:
    """Reads the child's output and enforces the limits an rlimit cannot."""

    def __init__(self, child: subprocess.Popen, out_dir: Path, limits: Limits) -> None:
        self.child = child
        self.out_dir = out_dir
        self.limits = limits
        self.reason: str | None = None
        self.started = time.monotonic()
        self.deadline = self.started + limits.timeout_s
        # A worker started before its inputs exist (late inputs) waits for the
        # runner's own ``import torch``: that wait is not the learner's time.
        self.spec = out_dir.parent / "job.json"
        self.spec_seen = self.spec.exists()
        self.out_cap = 4 * limits.file_bytes
        self._tail = b""
        self._total = 0
        self._seen: dict[int, int] = {}  # pid -> start time of every descendant ever seen
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._reader.start()
        self._watcher.start()

    def tail(self) -> str:
        with self._lock:
            return self._tail.decode("utf-8", errors="replace")

    def kill(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
        _killpg(self.child.pid)
        _kill(self.child.pid)

    def _read(self) -> None:
        stream = self.child.stdout
        assert stream is not None
        while True:
            chunk = stream.read1(65536)
            if not chunk:
                break
            with self._lock:
                self._total += len(chunk)
                self._tail = (self._tail + chunk)[-TAIL_BYTES:]
                flooded = self._total > self.limits.output_bytes
            if flooded:
                self.kill("output")
                # Keep draining so nothing blocks on a full pipe until the kill lands.

    def _watch(self) -> None:
        while not self._done.wait(WATCH_INTERVAL_S):
            now = time.monotonic()
            if not self.spec_seen and self.spec.exists():
                self.spec_seen = True
                self.deadline += min(now - self.started, MAX_INPUT_WAIT_S)
            if now > self.deadline:
                self.kill("timeout")
                return
            table = _process_table()
            tree = _descendants(table, self.child.pid)
            self._seen.update(tree)
            if len(tree) > self.limits.processes:
                self.kill("processes")
                return
            files, size = dir_usage(self.out_dir, OUT_MAX_FILES)
            if files > OUT_MAX_FILES or size > self.out_cap:
                self.kill("file size")
                return

    def finish(self) -> None:
        """The child is reaped: stop watching and kill whatever it left behind."""
        self._done.set()
        self._watcher.join()
        _killpg(self.child.pid)
        table = _process_table()
        leftovers = _descendants(table, self.child.pid)
        for pid, start in self._seen.items():
            if table.get(pid, (0, 0, -1))[2] == start:
                leftovers[pid] = start
        for pid, (_ppid, sid, start) in table.items():
            if sid == self.child.pid:  # the session it led, even if reparented
                leftovers[pid] = start
        for pid in leftovers:
            _kill(pid)
        self._reader.join(KILL_GRACE_S)
        if self.child.stdout is not None:
            self.child.stdout.close()


class RlimitsOnlyExecutor(_ProcessExecutor):
    """The worker as a plain child in its own session: limits and clean-up, no isolation.

    It can read what the caller can read; only for machines without bubblewrap.
    """

    isolation = "rlimits-only"
    die_with_parent = True  # no bwrap --die-with-parent here: a SIGKILLed tracker leaves no worker

    def command(self, job_dir: Path) -> list[str]:
        return [sys.executable, "-B", str(job_dir / "worker.py"), str(job_dir)]


class ColdExecutor(_ProcessExecutor):
    """The worker in a bubblewrap sandbox (see the module docstring)."""

    isolation = "bubblewrap"
    # bwrap arms its own --die-with-parent only once it runs: a tracker SIGKILLed
    # before that would leave the sandbox running without its wall-clock limit. The
    # death signal armed between fork and exec closes that window (bwrap is not
    # set-user-ID, so the signal survives the exec; killing bwrap ends the sandbox).
    die_with_parent = True

    def __init__(self, *, device: str = "cpu", threads: int | None = None) -> None:
        super().__init__(device=device, threads=threads)
        path = bwrap_path()
        if path is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
        self.bwrap = path

    def cwd(self, job_dir: Path) -> str:
        return "/"

    def command(self, job_dir: Path) -> list[str]:
        argv = [self.bwrap, *sandbox_args(gpu=self.device == "cuda")]
        argv += ["--ro-bind", str(job_dir), JOB_MOUNT]
        argv += ["--bind", str(job_dir / "out"), f"{JOB_MOUNT}/out", "--chdir", JOB_MOUNT]
        argv += ["--remount-ro", "/"]
        argv += ["--", sys.executable, "-B", f"{JOB_MOUNT}/worker.py", JOB_MOUNT]
        return argv


def _python_dirs() -> list[str]:
    """The directories the interpreter and the worker's imports live in."""
    candidates = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
    for name in ("torch", "safetensors", "numpy"):
        spec = importlib.util.find_spec(name)  # finds without importing
        if spec is not None and spec.origin:
            candidates.append(str(Path(spec.origin).resolve().parents[1]))
    dirs: list[str] = []
    for candidate in sorted({os.path.realpath(c) for c in candidates}, key=len):
        if not any(candidate == d or candidate.startswith(d + os.sep) for d in dirs):
            dirs.append(candidate)
    venv = os.path.abspath(sys.prefix)
    if venv not in dirs and not any(venv.startswith(d + os.sep) for d in dirs):
        dirs.append(venv)  # the venv by its own name too, so sys.executable resolves
    return dirs


def _tracker_dirs() -> list[str]:
    """The tracker package and the lessons folder, which the learner's code must not see."""
    from tracker.resources import lessons_dir

    package = Path(__file__).resolve().parents[1]
    return sorted({str(package), os.path.realpath(lessons_dir())})


def sandbox_args(*, gpu: bool = False) -> list[str]:
    """bwrap options for everything but the job: namespaces, system, Python."""
    return list(_sandbox_args(gpu))


@cache
def _sandbox_args(gpu: bool) -> tuple[str, ...]:
    args = [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--die-with-parent",
        "--new-session",
        # The worker is PID 1 of its namespace: its exit ends every process left in
        # there, and bwrap then reaps it itself, so wait4's ru_maxrss is the worker's.
        "--as-pid-1",
        "--cap-drop",
        "ALL",
        "--hostname",
        "sandbox",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(TMP_BYTES),
        "--tmpfs",
        "/tmp",
    ]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    python_dirs = _python_dirs()
    for path in python_dirs:
        args += ["--ro-bind", path, path]
    # A wheel install ships the lessons, reference code included, inside the package
    # the Python dirs just exposed: cover tracker's own files with an empty tmpfs.
    for private in _tracker_dirs():
        if any(private.startswith(d + os.sep) for d in [*python_dirs, *SYSTEM_DIRS]):
            args += ["--tmpfs", private]
    if gpu:
        for node in sorted(glob.glob("/dev/nvidia*")):
            args += ["--dev-bind", node, node]
        args += ["--ro-bind-try", "/sys", "/sys"]
        for path in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
            if path.startswith("/") and os.path.isdir(path):
                args += ["--ro-bind-try", path, path]
    return tuple(args)


# --- choosing one ----------------------------------------------------------------------------


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@cache
def bubblewrap_works() -> bool:
    """Whether a minimal sandbox starts here (probed once per process)."""
    path = bwrap_path()
    if path is None:
        return False
    try:
        probe = subprocess.run(
            [path, *sandbox_args(), "--remount-ro", "/", "--", "/bin/true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def executor_for(
    device: str = "cpu", *, require_isolation: bool = False, threads: int | None = None
) -> _ProcessExecutor:
    """The bubblewrap executor when it works, else rlimits only (unless isolation is required)."""
    if bubblewrap_works():
        return ColdExecutor(device=device, threads=threads)
    if require_isolation:
        why = "is not installed" if bwrap_path() is None else "cannot create a sandbox here"
        raise SandboxUnavailable(
            f"require_isolation is set but bubblewrap {why}: install bubblewrap "
            "(e.g. `apt install bubblewrap`) and allow unprivileged user namespaces, "
            "or run `tracker config set require_isolation false`"
        )
    return RlimitsOnlyExecutor(device=device, threads=threads)
