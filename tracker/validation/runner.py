"""The trusted side of validation: prepare jobs, run them through an executor, judge.

For each phase a lesson's checks.py declares, the runner makes fresh inputs
from a random seed (recorded in the verdict, so a learner cannot hard-code
outputs but a verdict can be replayed), writes a job directory (see
``tracker.validation.worker``), has an ``Executor`` run it, reads ``out/`` back
as untrusted bytes (safetensors only, sizes checked, no links followed), and
hands everything to the lesson's ``judge``, then adds the ``no_forbidden_calls``
check when the lesson's lesson.toml forbids calls (``tracker.validation.forbidden``:
the job's ``probe_kit.py`` records them in the sandbox). Each phase gets its own
worker run: flash-attention-3 tells tiled from full attention by the peak memory of
separate processes.

Cold runs are dominated by two ``import torch``: the worker's and this
process's (checks.py needs it to make inputs and to judge). An executor with
``late_inputs`` lets them overlap: the worker is started as soon as the job
directory holds the code, and the inputs and ``job.json`` follow once this
process has made them. A warm executor (torch already imported) simply gets
complete job directories.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import json
import os
import secrets
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from tracker import interrupt
from tracker.validation.execution import Executor, GiB, Limits, MiB, RawRun
from tracker.validation.forbidden import declared, with_forbidden_check
from tracker.validation.lesson_api import PhaseResult
from tracker.validation.verdict import Verdict

WORKER = Path(__file__).with_name("worker.py")
PROBE_KIT = Path(__file__).with_name("probe_kit.py")  # beside probe.py, which imports it
MAX_NOTES_BYTES = 1 * MiB
MAX_ERROR_BYTES = 64 * 1024
JOB_PREFIX = "tracker-job-"
ABANDON_RETRY_S = 0.5  # how long an interrupted run keeps removing what its killed workers wrote
MEMORY_NOTE_MARKERS = ("MemoryError", "can't allocate memory", "Cannot allocate memory")


def size_text(n: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def limit_message(limit: str, limits: Limits) -> str:
    if limit == "memory":
        amount = size_text(limits.memory_bytes) if limits.memory_bytes else "none set"
        return f"hit the memory limit ({amount})"
    if limit == "cpu":
        return f"hit the CPU time limit ({limits.cpu_s} s)"
    if limit == "output":
        return f"hit the output limit (more than {size_text(limits.output_bytes)} printed)"
    if limit == "file size":
        return f"hit the file size limit ({size_text(limits.file_bytes)})"
    if limit == "processes":
        return f"hit the process limit ({limits.processes} processes)"
    return f"hit the {limit} limit"


# --- lesson code -----------------------------------------------------------------------------

_checks_cache: dict[tuple[str, int], ModuleType] = {}


def load_checks(lesson_dir: Path) -> ModuleType:
    """The lesson's trusted checks.py (imports torch), loaded once per process and version."""
    path = (lesson_dir / "checks.py").resolve()
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _checks_cache:
        name = f"_tracker_checks_{lesson_dir.name.replace('-', '_')}_{len(_checks_cache)}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - a broken lesson folder
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _checks_cache[key] = module
    return _checks_cache[key]


def declared_phases(checks_path: Path) -> tuple[str, ...]:
    """checks.PHASES read without importing checks.py (and torch): a literal tuple."""
    try:
        return _declared_phases(str(checks_path), checks_path.stat().st_mtime_ns)
    except OSError:
        return ("main",)


@functools.cache
def _declared_phases(path: str, _mtime_ns: int) -> tuple[str, ...]:
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ("main",)
    for node in tree.body:
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign):
            target = node.target
        if isinstance(target, ast.Name) and target.id == "PHASES" and node.value is not None:
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return ("main",)
            if isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
                return tuple(value)
    return ("main",)


# --- job directories -------------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _remove_tree(path: Path) -> None:
    # A worker may leave directories without write or search permission: fix them first.
    for root, dirs, _files in os.walk(path):
        for name in dirs:
            child = os.path.join(root, name)
            if not os.path.islink(child):
                with contextlib.suppress(OSError):
                    os.chmod(child, 0o700)
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class _Job:
    phase: str
    path: Path
    spec_written: bool = False
    future: Future | None = None


def _start_time(pid: int) -> int | None:
    """A process's start time (clock ticks since boot), None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
        return int(raw[raw.rfind(b")") + 2 :].split()[19])
    except (OSError, IndexError, ValueError):
        return None


_OWNER = f"{os.getpid()}-{_start_time(os.getpid()) or 0}"


def job_parent(*, sweep: bool = True) -> Path:
    """The one directory cold job dirs live in (per user, mode 0700), swept of dead owners'.

    A job dir holds the learner's code; a process killed before it could remove
    its own (SIGKILL) leaves it behind, named after the owner's pid and start
    time, and the next validation removes it.
    """
    parent = Path(tempfile.gettempdir()) / f"tracker-jobs-{os.getuid()}"
    try:
        parent.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(parent)
    except OSError:
        return Path(tempfile.gettempdir())
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return Path(tempfile.gettempdir())  # not ours to trust: job dirs go beside it
    if sweep:
        sweep_dead_jobs(parent)
    return parent


def own_job_dirs(parent: Path) -> list[Path]:
    """This process's job dirs in ``parent`` (by the owner part of their names)."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return []
    mine = f"{JOB_PREFIX}{_OWNER}-"
    return [
        Path(entry.path)
        for entry in entries
        if entry.name.startswith(mine) and entry.is_dir(follow_symlinks=False)
    ]


def sweep_dead_jobs(parent: Path) -> list[Path]:
    """Remove job dirs whose owner process no longer runs; the paths removed."""
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(JOB_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        owner = entry.name.removeprefix(JOB_PREFIX).split("-")[:2]
        try:
            pid, started = int(owner[0]), int(owner[1])
        except (IndexError, ValueError):
            continue
        if _start_time(pid) != started:
            _remove_tree(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def _new_job(phase: str, probe: bytes, source: bytes, root: Path | None = None) -> _Job:
    parent = root if root is not None else job_parent()
    path = Path(tempfile.mkdtemp(prefix=f"{JOB_PREFIX}{_OWNER}-", dir=parent))  # mode 0700
    (path / "worker.py").write_bytes(WORKER.read_bytes())
    (path / "probe_kit.py").write_bytes(PROBE_KIT.read_bytes())
    (path / "probe.py").write_bytes(probe)
    (path / "submission.py").write_bytes(source)
    (path / "out").mkdir(mode=0o700)
    return _Job(phase, path)


# --- reading results back --------------------------------------------------------------------


class _Unreadable(Exception):
    """A file in out/ that is not a plain, reasonably sized file."""


def _read_untrusted(dir_fd: int, name: str, cap: int) -> bytes | None:
    try:
        fd = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd
        )
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _Unreadable(f"{name} could not be opened ({exc.strerror})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Unreadable(f"{name} is not a regular file")
        if info.st_size > cap:
            raise _Unreadable(f"{name} is larger than {size_text(cap)}")
        chunks, total = [], 0
        while chunk := os.read(fd, min(1 << 20, cap + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:
                raise _Unreadable(f"{name} is larger than {size_text(cap)}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _last_error_line(tail: str) -> str | None:
    for line in reversed(tail.strip().splitlines()[-20:]):
        words = line.strip().split(":", 1)
        if words[0].endswith(("Error", "Exception", "Interrupt")) and words[0].isidentifier():
            return line.strip()[:300]
    return None


def phase_result(job_dir: Path, raw: RawRun, limits: Limits) -> PhaseResult:
    """What one worker run handed back, with the runner's own account of how it ended."""
    result = PhaseResult(peak_rss_bytes=raw.peak_rss_bytes, wall_s=raw.wall_s)
    if raw.timed_out:
        result.error = f"timed out after {limits.timeout_s:g} s"
        return result
    if raw.limit_hit:
        result.error = limit_message(raw.limit_hit, limits)
        return result
    try:
        dir_fd = os.open(job_dir / "out", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        result.error = "the worker's out/ directory is gone"
        return result
    try:
        error_bytes = _read_untrusted(dir_fd, "error.json", MAX_ERROR_BYTES)
        if error_bytes is not None:
            result.error = _error_from_json(error_bytes, limits)
            return result
        outputs = _read_untrusted(dir_fd, "outputs.safetensors", limits.file_bytes)
        notes = _read_untrusted(dir_fd, "notes.json", MAX_NOTES_BYTES)
    except _Unreadable as exc:
        result.error = f"the worker handed back something unreadable: {exc}"
        return result
    finally:
        os.close(dir_fd)
    if outputs is None or notes is None:
        message = f"the worker exited before handing back results ({_exit_text(raw.returncode)})"
        last = _last_error_line(raw.output_tail)
        result.error = f"{message}: {last}" if last else message
        return result
    try:
        from safetensors.torch import load

        result.outputs = dict(load(outputs)) if outputs else {}
        parsed = json.loads(notes.decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - malformed untrusted bytes
        result.error = f"the worker handed back malformed results ({type(exc).__name__})"
        result.outputs = {}
        return result
    if isinstance(parsed, dict):
        result.notes = {str(k): str(v) for k, v in parsed.items()}
    if limits.memory_bytes is not None and any(
        marker in note for note in result.notes.values() for marker in MEMORY_NOTE_MARKERS
    ):
        result.error = limit_message("memory", limits)
    return result


def _error_from_json(data: bytes, limits: Limits) -> str:
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "the submission could not be loaded"
    if not isinstance(payload, dict):
        return "the submission could not be loaded"
    message = " ".join(str(payload.get("message") or "the submission could not be loaded").split())
    line = payload.get("line")
    if limits.memory_bytes is not None and (
        message.startswith("MemoryError") or any(m in message for m in MEMORY_NOTE_MARKERS[1:])
    ):
        return limit_message("memory", limits) + " while importing the submission"
    if isinstance(line, int) and not isinstance(line, bool):
        message = f"{message} (line {line})"
    if payload.get("kind") == "import" and message.startswith("SystemExit"):
        message = f"the submission exited while being imported: {message}"
    return message[:500]


class InputStock:
    """Inputs made ahead of time, one random seed per lesson, for ``tracker serve``.

    A warm submit would otherwise wait for ``make_inputs`` (30 ms for
    multi-head-attention-2); the server makes the next validation's inputs
    while it is idle instead. The seed stays in this process until it is used.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: dict[Path, tuple[ModuleType, int, dict[str, dict[str, Any]]]] = {}

    def take(self, lesson_dir: Path, checks: ModuleType) -> tuple[int, dict[str, Any]] | None:
        """A stocked (seed, inputs by phase) made by this very checks module, else None."""
        with self._lock:
            stocked = self._ready.pop(lesson_dir.resolve(), None)
        if stocked is None or stocked[0] is not checks:
            return None
        return stocked[1], stocked[2]

    def refill(self, lesson_dir: Path) -> None:
        checks = load_checks(lesson_dir)
        seed = secrets.randbelow(2**31)
        phases = tuple(getattr(checks, "PHASES", ("main",)))
        inputs = {phase: checks.make_inputs(phase, seed) for phase in phases}
        with self._lock:
            self._ready[lesson_dir.resolve()] = (checks, seed, inputs)

    def refill_later(self, lesson_dir: Path) -> None:
        def refill() -> None:
            with contextlib.suppress(Exception):  # a broken lesson shows on its next submit
                self.refill(lesson_dir)

        threading.Thread(target=refill, name="input-stock", daemon=True).start()


# --- the run ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Judge on one intra-op thread (small tensors; no spin-waiting on a busy machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class PendingValidation:
    """A validation whose workers may already be running; ``result()`` finishes it."""

    def __init__(
        self,
        lesson_dir: Path,
        source: bytes,
        *,
        device: str,
        limits: Limits,
        executor: Executor,
        seed: int | None,
        started: float,
    ) -> None:
        self.lesson_dir = lesson_dir
        self.source = source
        self.device = device
        self.limits = limits
        self.executor = executor
        # Without a seed: the executor's stock of ready inputs (warm), else a fresh one.
        self.stock: InputStock | None = (
            getattr(executor, "input_stock", None) if seed is None else None
        )
        self.seed = secrets.randbelow(2**31) if seed is None else seed
        self.started = started
        self.late = bool(getattr(executor, "late_inputs", False))
        self.probe = (lesson_dir / "probe.py").read_bytes()
        self.phases = declared_phases(lesson_dir / "checks.py")
        self.forbidden = declared(lesson_dir)
        self.phase_devices: dict[str, str] = {}  # checks.PHASE_DEVICES, once loaded
        # One intra-op thread per worker: the probes' tensors are small, and OpenMP
        # threads that spin-wait on a busy machine cost more than they save.
        self.threads = 1
        self.pool = ThreadPoolExecutor(max_workers=max(1, len(self.phases)))
        self.jobs: dict[str, _Job] = {}
        self.finished = False
        # Ctrl-C or SIGTERM (tracker.interrupt): kill the workers, remove the job dirs.
        self._interrupt = interrupt.on_interrupt(self._abandon)
        try:
            for phase in self.phases:
                self._start(phase, early=True)
        except BaseException:
            self.cancel(kill=True)
            raise

    def _start(self, phase: str, *, early: bool) -> _Job:
        # An executor may need its jobs in a directory of its own (the warm worker's spool).
        root = getattr(self.executor, "job_root", None)
        job = _new_job(phase, self.probe, self.source, Path(root) if root else None)
        self.jobs[phase] = job
        if self.late or not early:
            job.future = self.pool.submit(self.executor.run, job.path, self.limits)
        return job

    def _write_spec(self, job: _Job, inputs: dict[str, Any]) -> None:
        from safetensors.torch import save_file

        tensors = {k: v.contiguous() for k, v in inputs.items()}
        tmp = job.path / ".inputs.safetensors.tmp"
        save_file(tensors, str(tmp))
        os.replace(tmp, job.path / "inputs.safetensors")
        device = self.phase_devices.get(job.phase, self.device)
        spec = {
            "phase": job.phase,
            "device": device,
            "threads": self.threads,
            "forbidden_calls": list(self.forbidden.calls),
        }
        _write_atomic(job.path / "job.json", json.dumps(spec).encode())
        job.spec_written = True
        if job.future is None:
            job.future = self.pool.submit(self.executor.run, job.path, self.limits)

    def _abandon(self) -> None:
        """The process is about to exit: kill what runs, remove the job dirs, wait for nothing.

        Every directory of this process's is removed, registered in ``jobs`` or
        not yet (the signal may land between ``mkdtemp`` and the bookkeeping),
        and removal is retried briefly: a killed worker may still be writing.
        """
        stop = getattr(self.executor, "cancel", None)
        if callable(stop):
            stop()
        paths = {job.path for job in list(self.jobs.values())}
        for root in {path.parent for path in paths} | {self._root()}:
            paths.update(own_job_dirs(root))
        deadline = time.monotonic() + ABANDON_RETRY_S
        while paths:
            for path in list(paths):
                _remove_tree(path)
                if not os.path.lexists(path):
                    paths.discard(path)
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)

    def _root(self) -> Path:
        root = getattr(self.executor, "job_root", None)
        return Path(root) if root else job_parent(sweep=False)

    def cancel(self, *, kill: bool = False) -> None:
        """Stop waiting workers, wait for running ones, remove every job directory.

        With ``kill`` (the caller is giving up: an error, Ctrl-C) running workers are
        killed when the executor can (an optional ``cancel()``), not waited for.
        """
        if self.finished:
            return
        self.finished = True
        for job in self.jobs.values():
            if not job.spec_written and job.future is not None:
                with contextlib.suppress(OSError):
                    _write_atomic(job.path / "job.json", b'{"cancel": true}')
        stop = getattr(self.executor, "cancel", None)
        if kill and callable(stop):
            stop()
        self.pool.shutdown(wait=True)
        for job in self.jobs.values():
            _remove_tree(job.path)
        interrupt.discard(self._interrupt)

    def result(self) -> Verdict:
        ok = False
        try:
            checks = load_checks(self.lesson_dir)
            self.phase_devices = {
                str(k): str(v) for k, v in getattr(checks, "PHASE_DEVICES", {}).items()
            }
            phases = tuple(getattr(checks, "PHASES", ("main",)))
            for phase in [p for p in self.jobs if p not in phases]:  # PHASES was not a literal
                job = self.jobs.pop(phase)
                with contextlib.suppress(OSError):
                    _write_atomic(job.path / "job.json", b'{"cancel": true}')
                self.jobs[f"_unused_{phase}"] = job
            stocked = self.stock.take(self.lesson_dir, checks) if self.stock else None
            if stocked is not None:
                self.seed, inputs = stocked
            else:
                inputs = {phase: checks.make_inputs(phase, self.seed) for phase in phases}
            if self.stock is not None:
                self.stock.refill_later(self.lesson_dir)
            for phase in phases:
                job = self.jobs.get(phase) or self._start(phase, early=False)
                self._write_spec(job, inputs[phase])
            raws = {phase: self.jobs[phase].future.result() for phase in phases}
            results = {
                phase: phase_result(self.jobs[phase].path, raws[phase], self.limits)
                for phase in phases
            }
            ok = True
        finally:
            self.cancel(kill=not ok)
        error = next(
            (
                r.error if phase == "main" else f"{phase} phase: {r.error}"
                for phase, r in results.items()
                if r.error
            ),
            None,
        )
        try:
            with _one_thread():
                checked = list(checks.judge(inputs, results, self.device))
            checked = with_forbidden_check(checked, results, self.forbidden)
        except Exception as exc:  # noqa: BLE001 - a lesson bug must not look like a pass
            checked = []
            error = error or f"the lesson's checks failed to run: {type(exc).__name__}: {exc}"
        if not checked and error is None:
            error = "the lesson's checks returned nothing"
        isolation = next(iter(raws.values())).isolation if raws else self.executor.isolation
        return Verdict(
            lesson=self.lesson_dir.name,
            passed=error is None and all(c.passed for c in checked),
            device=self.device,
            isolation=isolation,
            duration_s=time.perf_counter() - self.started,
            checks=checked,
            error=error,
            seed=self.seed,
            phases={
                phase: {
                    "wall_s": round(r.wall_s, 3),
                    "peak_rss_bytes": r.peak_rss_bytes,
                }
                for phase, r in results.items()
            },
        )


def start_validation(
    lesson_dir: Path,
    source: bytes,
    *,
    device: str = "auto",
    limits: Limits,
    executor: Executor | None = None,
    seed: int | None = None,
) -> PendingValidation:
    """Start the workers for ``source`` now; call ``result()`` on the answer for the verdict."""
    started = time.perf_counter()
    from tracker.validation.device import resolve_device

    device = resolve_device(device)
    if device == "cuda":
        limits = replace(limits, memory_bytes=None)  # the driver maps more than any RLIMIT_AS
    if executor is None:
        from tracker.validation.sandbox import executor_for

        executor = executor_for(device)
    return PendingValidation(
        lesson_dir,
        source,
        device=device,
        limits=limits,
        executor=executor,
        seed=seed,
        started=started,
    )


def validate(
    lesson_dir: Path,
    submission: Path,
    *,
    device: str = "auto",
    limits: Limits,
    executor: Executor | None = None,
    seed: int | None = None,
) -> Verdict:
    """Run a submission through every phase of a lesson's checks and judge it."""
    return start_validation(
        lesson_dir,
        submission.read_bytes(),
        device=device,
        limits=limits,
        executor=executor,
        seed=seed,
    ).result()
