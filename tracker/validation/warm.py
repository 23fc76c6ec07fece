"""The client side of the warm validation worker that ``tracker serve`` keeps.

``import torch`` alone takes seconds, so a cold ``submit`` can hardly be fast.
While ``tracker serve`` runs, it keeps a sandboxed process that has already
imported torch and forks one child per job (``warm_zygote.py``; the server is
``warm_server.py``). ``submit`` reaches it over a Unix socket beside the
database that only the learner can open, and uses it when it answers a ping;
otherwise it runs the cold worker. Both run the same ``worker.run_job`` under
the same ``Limits`` and report a ``RawRun``, so verdicts do not depend on which
ran.

Where things live, for a SQLite database ``~/x/tracker.db``::

    ~/x/tracker.db.sock     the socket, mode 0600 (created under umask 0o177)
    ~/x/tracker.db.spool/   job directories of warm runs, mode 0700

For PostgreSQL the two live in the user's runtime dir (else data dir), named
after a hash of the URL. The spool is the only host directory the warm sandbox
can see, so the runner must create a warm job's directory in
``executor.job_root``; ``WarmExecutor.run`` refuses any other.

Wire protocol: one JSON line each way per connection. ``{"op": "ping"}`` and
``{"op": "run", "job": NAME, "limits": {...}}``; replies carry ``"ok"`` and
either ``"run"`` (the ``RawRun`` fields) or ``"error"``.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.db.location import DatabaseLocation
from tracker.errors import EnvironmentProblem
from tracker.validation.execution import Executor, Limits, RawRun
from tracker.validation.wire import (  # noqa: F401 - re-exported: serve and tests use them here
    MAX_MESSAGE_BYTES,
    SOCKET_PATH_MAX,
    WarmPaths,
    receive_message,
    send_message,
    socket_address,
    socket_is_private,
    warm_paths,
)

if TYPE_CHECKING:
    from tracker.validation.runner import Verdict

PING_TIMEOUT_S = 0.5
# Beyond the job's own wall limit: the queue behind another job, clean-up, a restart.
RUN_SLACK_S = 120.0


class WarmWorkerError(EnvironmentProblem):
    """The warm validation worker of ``tracker serve`` failed a job."""


def request(path: Path, message: dict[str, Any], timeout: float) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        with socket_address(path) as address:
            conn.connect(address)
        send_message(conn, message)
        return receive_message(conn)


def raw_run_from(fields: dict[str, Any], isolation: str) -> RawRun:
    """A RawRun from the server's reply, every field checked for its type."""
    returncode = fields.get("returncode")
    limit_hit = fields.get("limit_hit")
    return RawRun(
        returncode=int(returncode) if isinstance(returncode, int) else None,
        wall_s=max(0.0, float(fields.get("wall_s", 0.0))),
        peak_rss_bytes=max(0, int(fields.get("peak_rss_bytes", 0))),
        isolation=isolation,
        timed_out=bool(fields.get("timed_out", False)),
        limit_hit=str(limit_hit) if limit_hit is not None else None,
        output_tail=str(fields.get("output_tail", "")),
    )


class WarmExecutor:
    """Runs a job through ``tracker serve``'s warm worker (an ``Executor``).

    Job directories must be created in ``job_root`` (the spool). When the
    server cannot be reached or its worker died during the job, the job is
    re-run on ``fallback`` (the cold executor) if one was given, else
    ``WarmWorkerError`` is raised.
    """

    # The job dir must be complete (job.json written) before ``run``: the zygote's
    # child starts in milliseconds, so there is no import to overlap with.
    late_inputs = False

    def __init__(
        self,
        socket_path: Path,
        spool_dir: Path,
        *,
        device: str = "cpu",
        isolation: str = "bubblewrap (warm)",
        fallback: Executor | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.spool_dir = spool_dir
        self.device = device
        self.isolation = isolation
        self.fallback = fallback

    @property
    def job_root(self) -> Path:
        """The directory the runner must create this executor's job dirs in."""
        return self.spool_dir

    def run(self, job_dir: Path, limits: Limits) -> RawRun:
        job_dir = Path(job_dir)
        if job_dir.resolve().parent != self.spool_dir.resolve():
            return self._run_staged(job_dir, limits)
        if self.device == "cuda" and limits.memory_bytes is not None:
            # As the cold executor: CUDA reserves more address space than RLIMIT_AS allows.
            limits = replace(limits, memory_bytes=None)
        message = {"op": "run", "job": job_dir.name, "limits": asdict(limits)}
        try:
            reply = request(self.socket_path, message, timeout=limits.timeout_s + RUN_SLACK_S)
        except (OSError, ValueError) as exc:
            reply = {"ok": False, "error": f"cannot reach tracker serve: {exc}"}
        if reply.get("ok") and isinstance(reply.get("run"), dict):
            return raw_run_from(reply["run"], str(reply.get("isolation", self.isolation)))
        error = str(reply.get("error", "tracker serve sent no result"))
        if self.fallback is None:
            raise WarmWorkerError(f"warm validation worker: {error}")
        # Whatever the interrupted run left in out/ must not be read as the cold run's.
        shutil.rmtree(job_dir / "out", ignore_errors=True)
        (job_dir / "out").mkdir()
        return self.fallback.run(job_dir, limits)

    def _run_staged(self, job_dir: Path, limits: Limits) -> RawRun:
        return run_in_spool(job_dir, self.spool_dir, limits, self.run)


def run_in_spool(
    job_dir: Path, spool: Path, limits: Limits, run: Callable[[Path, Limits], RawRun]
) -> RawRun:
    """A job made outside the spool: run a copy inside it, then copy its out/ back."""
    staged = Path(tempfile.mkdtemp(prefix="staged-", dir=spool))
    try:
        for entry in job_dir.iterdir():
            if entry.name != "out" and entry.is_file() and not entry.is_symlink():
                shutil.copyfile(entry, staged / entry.name)
        (staged / "out").mkdir()
        result = run(staged, limits)
        shutil.rmtree(job_dir / "out", ignore_errors=True)
        try:
            # symlinks=True: links the learner made stay links, never followed.
            shutil.copytree(staged / "out", job_dir / "out", symlinks=True)
        except (OSError, shutil.Error):
            (job_dir / "out").mkdir(exist_ok=True)  # the runner reports what is missing
        return result
    finally:
        shutil.rmtree(staged, ignore_errors=True)


class WarmPending:
    """A validation sent to ``tracker serve``; ``result()`` waits for its verdict.

    ``result()`` is None when the server failed before answering: the caller
    then validates cold, which gives the same verdict.
    """

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn

    def result(self) -> Verdict | None:
        try:
            reply = receive_message(self.conn)
        except (OSError, ValueError):
            return None
        finally:
            self.cancel()
        document = reply.get("verdict")
        if not reply.get("ok") or not isinstance(document, dict):
            return None
        try:
            return verdict_from(document)
        except (KeyError, TypeError, ValueError):
            return None

    def cancel(self, *, kill: bool = False) -> None:
        self.conn.close()


def start_warm_validation(
    location: DatabaseLocation,
    lesson_dir: Path,
    source: bytes,
    *,
    device: str,
    limits: Limits,
    seed: int | None = None,
    timeout: float = PING_TIMEOUT_S,
) -> WarmPending | None:
    """Send a whole validation to ``tracker serve`` (which has torch imported).

    The caller never imports torch: the server makes the inputs, runs each
    phase on its warm worker (the learner's code in its sandbox) and judges.
    ``device`` may be "auto"; the server resolves it. None when no server
    answers a ping within ``timeout``: validate cold instead.
    """
    paths = warm_paths(location)
    if ping(paths.socket, timeout) is None:
        return None
    message = {
        "op": "validate",
        "lesson_dir": str(lesson_dir),
        "source": base64.b64encode(source).decode("ascii"),
        "device": device,
        "limits": asdict(limits),
        "seed": seed,
    }
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(timeout + 5.0)
        with socket_address(paths.socket) as address:
            conn.connect(address)
        send_message(conn, message)
        # Every phase may take its wall limit, queued behind another submit's.
        conn.settimeout(4 * limits.timeout_s + 2 * RUN_SLACK_S)
    except OSError:
        conn.close()
        return None
    return WarmPending(conn)


def warm_validate(
    location: DatabaseLocation,
    lesson_dir: Path,
    source: bytes,
    *,
    device: str,
    limits: Limits,
    seed: int | None = None,
    timeout: float = PING_TIMEOUT_S,
) -> Verdict | None:
    """``start_warm_validation(...).result()``; None means: validate cold."""
    pending = start_warm_validation(
        location, lesson_dir, source, device=device, limits=limits, seed=seed, timeout=timeout
    )
    return pending.result() if pending is not None else None


def verdict_from(document: dict[str, Any]) -> Verdict:
    from tracker.validation.lesson_api import CheckResult
    from tracker.validation.runner import Verdict

    return Verdict(
        lesson=str(document["lesson"]),
        passed=bool(document["passed"]),
        device=str(document["device"]),
        isolation=str(document["isolation"]),
        duration_s=float(document["duration_s"]),
        checks=[
            CheckResult(
                str(c["name"]), bool(c["passed"]), str(c["message"]), bool(c.get("skipped"))
            )
            for c in document["checks"]
        ],
        error=document["error"] if document["error"] is None else str(document["error"]),
        seed=int(document["seed"]),
        phases=dict(document.get("phases") or {}),
    )


def ping(path: Path, timeout: float = PING_TIMEOUT_S) -> dict[str, Any] | None:
    """The server's ping reply, or None when nothing answers well and quickly."""
    if not socket_is_private(path):
        return None
    try:
        reply = request(path, {"op": "ping"}, timeout=timeout)
    except (OSError, ValueError):
        return None
    return reply if reply.get("ok") is True else None


def warm_executor_for(
    location: DatabaseLocation,
    *,
    device: str = "cpu",
    fallback: Executor | None = None,
    timeout: float = PING_TIMEOUT_S,
    pinger: Callable[[Path, float], dict[str, Any] | None] = ping,
) -> WarmExecutor | None:
    """The warm executor when ``tracker serve`` runs for this database, else None.

    Only a socket owned by this user with mode 0600 is trusted, and only when
    its server answers a ping within ``timeout`` and names the expected spool
    (a private directory of this user); ``submit`` falls back to the cold path
    on None.
    """
    paths = warm_paths(location)
    reply = pinger(paths.socket, timeout)
    if reply is None or reply.get("spool") != str(paths.spool):
        return None
    try:
        info = os.lstat(paths.spool)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        return None
    isolation = str(reply.get("isolation", "bubblewrap (warm)"))
    return WarmExecutor(
        paths.socket, paths.spool, device=device, isolation=isolation, fallback=fallback
    )
