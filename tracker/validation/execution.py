"""How one phase of a submission gets executed: the seam between the trusted
runner and the two ways of running the worker (a cold sandboxed interpreter,
or a fork of the warm worker that ``tracker serve`` keeps).

The runner prepares a job directory (see ``tracker.validation.worker``) and
hands it to an ``Executor``; the executor runs the worker on it under
``Limits`` and reports what it measured from outside the learner's process.
Verdicts must not depend on which executor ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

GiB = 1024**3
MiB = 1024**2


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 60.0  # wall clock, always enforced
    cpu_s: int = 600  # RLIMIT_CPU counts every thread; import torch alone spends 2-3 s
    # RLIMIT_AS; None on cuda (the driver reserves address space of about 2x GPU memory)
    memory_bytes: int | None = 8 * GiB
    processes: int = 256  # RLIMIT_NPROC (not enforced for root; the PID namespace is the backstop)
    file_bytes: int = 64 * MiB  # RLIMIT_FSIZE
    output_bytes: int = 1 * MiB  # stdout+stderr kept; the rest is discarded, and the run fails


@dataclass(frozen=True)
class RawRun:
    """What an executor observed. Nothing here comes from the learner's process itself."""

    returncode: int | None  # None when killed by the tracker (timeout)
    wall_s: float
    peak_rss_bytes: int  # ru_maxrss of the worker process tree, from wait4()
    isolation: str  # "bubblewrap", "rlimits-only", ...
    timed_out: bool = False
    limit_hit: str | None = None  # "memory", "cpu", "output", "file size", "processes"
    output_tail: str = ""  # last lines of stdout+stderr, for messages only


class Executor(Protocol):
    isolation: str

    def run(self, job_dir: Path, limits: Limits) -> RawRun: ...
