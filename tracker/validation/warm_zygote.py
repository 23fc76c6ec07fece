"""The warm worker's zygote: imports torch once, then forks one child per job.

This file runs inside the sandbox (``python warm_zygote.py --worker DIR ...``),
started by ``tracker serve`` (``tracker.validation.warm_worker``). Like
``worker.py`` it imports nothing from ``tracker``: only the standard library,
torch, safetensors and the ``worker.py`` that serve binds beside it.

Why it is shaped like this:

- ``import torch`` costs seconds; a fork of a process that already imported it
  costs ~0.1 s. The zygote never runs a tensor op before forking: a fork after
  libgomp started its thread pool deadlocks the child's first parallel op.
- Under bubblewrap the zygote is PID 1 of its PID namespace (``--as-pid-1``):
  the kernel drops every signal a process inside the namespace sends to its
  init, so a learner cannot kill it, and orphans are reparented to it, so it
  reaps them. It is also non-dumpable, so a child cannot ptrace it or open
  ``/proc/1/fd`` (the request and reply pipes).
- Each child drops into a Landlock domain before the learner's code runs
  (when the kernel has Landlock): writes only beneath its own job directory
  and the private /tmp, no TCP, and no signals to processes outside its domain.
- After each child, every other process in the namespace is killed and reaped
  and /tmp is emptied, so nothing of one submission is alive or on disk when
  the next one starts.

Protocol: one JSON line per request on stdin
``{"job": NAME, "limits": {...}, "watch": {...}}`` and one JSON line per
reply on the original stdout ``{"returncode", "wall_s", "peak_rss_bytes",
"cpu_s", "reason", "output_tail"}``, where ``reason`` is why the zygote
killed the child (timeout, output, processes, file size, interrupted) or null;
the trusted side turns that into a ``RawRun`` with the cold executor's own
rules. ``{"cancel": NAME}`` (no reply) kills job NAME's child if it runs, or
refuses NAME when it comes later. The first line written is
``{"ready": true, ...}``. Anything else it prints goes to stderr.

``peak_rss_bytes`` is the child's ru_maxrss: it includes the pages the child
inherited from the zygote (torch's import, ~the same as a cold worker's own
import), so it is comparable with, but not equal to, a cold run's figure.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
REAP_DEADLINE_S = 5.0
NPROC_MARGIN = 16

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


# --- Landlock (Linux >= 5.13): a child restricts itself before learner code runs.
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # same numbers on every arch
_FS_WRITE_FILE = 1 << 1
_FS_WRITE_TREE = sum(1 << bit for bit in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))
_FS_REFER, _FS_TRUNCATE = 1 << 13, 1 << 14
_NET_ALL = (1 << 0) | (1 << 1)  # bind and connect TCP
_SCOPE_ALL = (1 << 0) | (1 << 1)  # abstract unix sockets and signals outside the domain


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    return max(0, int(_libc.syscall(_SYS_CREATE, None, 0, 1)))


def restrict_writes(writable: list[str], abi: int) -> None:
    """Allow writes only beneath ``writable`` (and to devices such as /dev/null)."""
    tree = _FS_WRITE_TREE | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(tree, _NET_ALL if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    size = 8 * (3 if abi >= 6 else 2 if abi >= 4 else 1)
    ruleset = _libc.syscall(_SYS_CREATE, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    file_rights = _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
    rules = [(path, tree) for path in writable] + [("/dev", file_rights)]
    for path, rights in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        rule = _PathBeneath(rights, fd)
        ok = _libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0)
        os.close(fd)
        if ok != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule({path}) failed")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    if _libc.syscall(_SYS_RESTRICT, ruleset, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    os.close(ruleset)


# --- the child: everything between fork and os._exit.
def _clamp(kind: int, soft: int, hard: int) -> tuple[int, int]:
    _, current = resource.getrlimit(kind)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    return soft, hard


def _own_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                continue
    return count


def _apply_limits(limits: dict, nproc_base: int) -> None:
    """The cold executor's rlimits (``sandbox.rlimits_for``), set in the forked child."""
    cpu, size, procs = int(limits["cpu_s"]), int(limits["file_bytes"]), int(limits["processes"])
    wanted = [
        (resource.RLIMIT_CPU, (cpu, cpu + 5)),  # SIGXCPU first, then SIGKILL
        (resource.RLIMIT_FSIZE, (size, size)),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NPROC, (procs + nproc_base, procs + nproc_base)),
    ]
    if limits.get("memory_bytes"):
        wanted.append((resource.RLIMIT_AS, (int(limits["memory_bytes"]),) * 2))
    for kind, values in wanted:
        resource.setrlimit(kind, _clamp(kind, *values))


def _exit_code(exc: SystemExit) -> int:
    """What the interpreter would exit with for this SystemExit."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _child(job: Path, limits: dict, write_fd: int, tmp: str, abi: int, worker) -> None:  # noqa: ANN001
    code = 1
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.closerange(3, 65536)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if abi:
            restrict_writes([str(job), tmp], abi)
        # As the cold path, whose base is the caller's own process count: the limit
        # sits above ``processes`` so the zygote's watch, not fork(), stops a spray.
        _apply_limits(limits, 0 if os.getuid() == 0 else _own_processes() + NPROC_MARGIN)
        os.chdir(job)
        # As for ``python worker.py JOB`` (the cold path): the job dir heads sys.path.
        sys.argv = [str(job / "worker.py"), str(job)]
        sys.path[0] = str(job)
        code = worker.run_job(job)
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - printed as an uncaught exception would be
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


# --- the zygote: fork, watch, clean up.
def _process_table() -> dict[int, int]:
    """pid -> ppid of every process we can see but ourselves."""
    me = os.getpid()
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        parents[int(entry)] = int(stat[stat.rfind(b")") + 2 :].split()[1])
    return parents


def _others(as_init: bool) -> list[int]:
    """Processes to kill after a job: the whole namespace, or our descendants."""
    parents = _process_table()
    if as_init:
        return [pid for pid in parents if pid != 1]
    found, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return sorted(found)


def _kill_everything_else(as_init: bool) -> int:
    """Kill and reap every process the job left; the largest ru_maxrss among them, in KiB.

    A descendant the child never waited for is reparented here, so the child's
    own wait4 figure misses its memory: counting it here keeps a job from
    hiding an allocation in an orphan (the flash-attention memory check).
    """
    peak = 0
    deadline = time.monotonic() + REAP_DEADLINE_S
    while time.monotonic() < deadline:
        pids = _others(as_init)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        reaped = False
        while True:
            try:
                pid, _, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            peak = max(peak, usage.ru_maxrss)
            reaped = True
        if not pids:
            return peak
        if not reaped:
            time.sleep(0.005)
    return peak


def _empty(folder: str) -> None:
    for entry in os.scandir(folder):
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


class Requests:
    """Request lines from the trusted side, read without blocking the watch loop."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.closed = False
        self.cancelled: set[str] = set()

    def read_available(self) -> None:
        data = os.read(self.fd, 65536)
        if not data:
            self.closed = True
        self.buffer += data

    def next_line(self) -> bytes | None:
        if b"\n" not in self.buffer:
            return None
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer[:] = rest
        return line

    def next_request(self) -> dict | None:
        """The next job request (cancels are noted as they pass); None at end of input."""
        while True:
            line = self.next_line()
            if line is None:
                if self.closed:
                    return None
                self.read_available()
                continue
            request = json.loads(line)
            if isinstance(request, dict) and "cancel" in request:
                self.cancelled.add(str(request["cancel"]))
                continue
            return request

    def cancel_pending(self, job: str) -> bool:
        """Read what has arrived; True when ``job`` was cancelled."""
        while (line := self.next_line()) is not None:
            with contextlib.suppress(ValueError):
                request = json.loads(line)
                if isinstance(request, dict) and "cancel" in request:
                    self.cancelled.add(str(request["cancel"]))
        return job in self.cancelled


def run_one(
    request: dict,
    *,
    spool: Path,
    tmp: str,
    as_init: bool,
    abi: int,
    worker,
    requests: Requests,  # noqa: ANN001
) -> dict:
    """Fork a child for one job, watch it as the cold executor would, clean up after it."""
    limits, watch = request["limits"], request["watch"]
    if requests.cancel_pending(request["job"]):
        return {
            "returncode": None,
            "wall_s": 0.0,
            "peak_rss_bytes": 0,
            "cpu_s": 0.0,
            "reason": "interrupted",
            "output_tail": "",
        }
    job = spool / request["job"]
    tail_bytes, poll = int(watch["tail_bytes"]), float(watch["poll_s"])
    max_files, out_cap = int(watch["out_max_files"]), int(watch["out_cap"])
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(job, limits, write_fd, tmp, abi, worker)
    os.close(write_fd)
    pidfd = os.pidfd_open(pid)
    deadline = start + float(limits["timeout_s"])
    tail, total = bytearray(), 0
    reason = None
    status = usage = None
    reading = True
    next_check = start + poll
    while status is None and reason is None:
        now = time.monotonic()
        if now >= deadline:
            reason = "timeout"
            break
        if now >= next_check:
            next_check = now + poll
            if len(_others(as_init)) - 1 > int(limits["processes"]):
                reason = "processes"
                break
            files, size = worker.dir_usage(job / "out", max_files)
            if files > max_files or size > out_cap:
                reason = "file size"
                break
        watched = [pidfd, read_fd] if reading else [pidfd]
        if not requests.closed:
            watched.append(requests.fd)
        ready, _, _ = select.select(watched, [], [], max(0.0, min(deadline, next_check) - now))
        if requests.fd in ready:
            requests.read_available()
            if requests.cancel_pending(request["job"]):
                reason = "interrupted"
                break
        if read_fd in ready:
            data = os.read(read_fd, 65536)
            reading = bool(data)
            total += len(data)
            tail += data
            del tail[:-tail_bytes]
            if total > int(limits["output_bytes"]):
                reason = "output"
        if pidfd in ready:
            _, status, usage = os.wait4(pid, 0)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - start
    os.close(pidfd)
    orphans_peak = _kill_everything_else(as_init)
    os.set_blocking(read_fd, False)
    try:
        while reading and (data := os.read(read_fd, 65536)):
            total += len(data)
            tail += data
            del tail[:-tail_bytes]
    except BlockingIOError:
        pass
    os.close(read_fd)
    _empty(tmp)
    if reason is None and total > int(limits["output_bytes"]):
        reason = "output"
    return {
        "returncode": os.waitstatus_to_exitcode(status),
        "wall_s": round(wall, 6),
        "peak_rss_bytes": max(usage.ru_maxrss, orphans_peak) * 1024,  # KiB on Linux
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 6),
        "reason": reason,
        "output_tail": tail.decode("utf-8", errors="replace"),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker-dir", required=True)
    parser.add_argument("--spool", required=True)
    parser.add_argument("--tmp", required=True)
    args = parser.parse_args(argv)

    as_init = os.getpid() == 1
    _prctl(PR_SET_DUMPABLE, 0)
    if not as_init:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Requests and replies get their own descriptors; fd 1 becomes stderr so a
    # stray print (a library warning) can never corrupt the reply stream.
    requests = Requests(os.dup(0))
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)

    sys.path.insert(0, args.worker_dir)
    import safetensors.torch  # noqa: F401
    import torch  # noqa: F401 - the point of the zygote; no tensor op may run before fork
    import worker  # the same file the cold path runs as a script

    sys.path.remove(args.worker_dir)
    abi = landlock_abi()
    spool = Path(args.spool)
    replies.write(
        json.dumps({"ready": True, "pid": os.getpid(), "landlock": abi, "as_init": as_init}) + "\n"
    )
    replies.flush()
    while True:
        try:
            request = requests.next_request()
        except ValueError as exc:
            reply = {"error": f"bad request: {exc}"}
        else:
            if request is None:
                break
            try:
                reply = run_one(
                    request,
                    spool=spool,
                    tmp=args.tmp,
                    as_init=as_init,
                    abi=abi,
                    worker=worker,
                    requests=requests,
                )
            except Exception as exc:  # noqa: BLE001 - report, keep serving
                reply = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
