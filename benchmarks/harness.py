"""The benchmark harness: figures, paired timings, the results document, the table.

Every benchmark module (`benchmarks/bench_<name>.py`) exposes one function,
``run(ctx: Context) -> Iterator[Figure]``; this module gives them what they share:

- ``interleave``: time several actions round by round (A, B, A, B ...) after a
  warm-up, so drift on a busy machine hits each alike; a figure compared with a
  floor or a peer is the ratio of two medians taken in those same rounds;
- ``Process``: one whole ``tracker`` (or ``python -c``) process, its wall time
  and peak RSS (``os.wait4``: the largest process of its tree);
- ``Figure``, ``results_document`` and ``merge_results``: what results.json holds;
- ``render_table``: what ``python -m benchmarks`` prints.

The clock is a parameter (``time.perf_counter`` by default) so the tests drive
the logic with fake timers.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.json"
SCHEMA = 1

Clock = Callable[[], float]


class BenchmarkError(RuntimeError):
    """A benchmarked command failed; the message names it and ends with its stderr."""


@dataclass(frozen=True)
class Figure:
    """One measured figure. ``samples`` are the runs behind ``value`` (its median)."""

    name: str
    value: float
    unit: str
    samples: tuple[float, ...] = ()
    peer: str | None = None  # what it is compared with: a floor command or a peer figure
    peer_value: float | None = None
    ratio: float | None = None  # value / peer_value, both measured in the same rounds
    goal: str | None = None  # e.g. "ratio <= 1.3" or "value <= 2"
    met: bool | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        samples = self.samples or (self.value,)
        return {
            "name": self.name,
            "value": _round(self.value),
            "unit": self.unit,
            "peer": self.peer,
            "peer_value": None if self.peer_value is None else _round(self.peer_value),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "goal": self.goal,
            "met": self.met,
            "runs": len(samples),
            "min": _round(min(samples)),
            "median": _round(statistics.median(samples)),
            "max": _round(max(samples)),
            "note": self.note,
        }


def _round(value: float) -> float:
    """Four significant digits: enough for figures that move by percents between runs."""
    return float(f"{value:.4g}")


@dataclass
class Context:
    """What a benchmark gets: the mode, run counts, a scratch folder, the device."""

    quick: bool = False
    runs: int = 5
    warmup: int = 1
    tmp: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    device: str = "cpu"
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def runs_for(self, full: int | None = None) -> int:
        """Measured runs: 1 in quick mode, else ``full`` or the default."""
        return 1 if self.quick else (full if full is not None else self.runs)

    def warmups(self) -> int:
        return 0 if self.quick else self.warmup


# --- timing -------------------------------------------------------------------------------


def interleave(
    actions: Mapping[str, Callable[[], Any]],
    *,
    runs: int,
    warmup: int = 1,
    clock: Clock = time.perf_counter,
) -> dict[str, list[float]]:
    """Seconds of each action over ``runs`` rounds, run A, B, A, B ... after ``warmup`` rounds.

    The order within a round alternates (A B, then B A) so neither action is always
    the one that runs right after the other.
    """
    names = list(actions)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(warmup + runs):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            start = clock()
            actions[name]()
            elapsed = clock() - start
            if round_ >= warmup:
                samples[name].append(elapsed)
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def compared(
    name: str,
    samples: Sequence[float],
    peer: str,
    peer_samples: Sequence[float],
    *,
    unit: str = "s",
    max_ratio: float | None = None,
    note: str = "",
) -> Figure:
    """A figure and its ratio to a peer measured in the same rounds (median over median)."""
    value, peer_value = median(samples), median(peer_samples)
    ratio = value / peer_value if peer_value else None
    goal = met = None
    if max_ratio is not None:
        goal = f"ratio <= {max_ratio:g}"
        met = ratio is not None and ratio <= max_ratio
    return Figure(name, value, unit, tuple(samples), peer, peer_value, ratio, goal, met, note=note)


def plain(
    name: str,
    samples: Sequence[float],
    *,
    unit: str = "s",
    max_value: float | None = None,
    note: str = "",
) -> Figure:
    """A figure with no peer; ``max_value`` makes an absolute goal."""
    value = median(samples)
    goal = met = None
    if max_value is not None:
        goal = f"value <= {max_value:g} {unit}"
        met = value <= max_value
    return Figure(name, value, unit, tuple(samples), goal=goal, met=met, note=note)


# --- whole processes ----------------------------------------------------------------------


def tracker_command(*args: str) -> list[str]:
    """`tracker ARGS` as a learner runs it: the console script beside this Python."""
    script = Path(sys.executable).with_name("tracker")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "tracker", *args]


def python_command(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@dataclass
class Process:
    """A command run as a fresh process; each call records its peak RSS (KiB) too."""

    command: list[str]
    env: Mapping[str, str] | None = None
    ok: tuple[int, ...] = (0,)
    rss_kib: list[int] = field(default_factory=list)
    last_stdout: bytes = b""

    def __call__(self) -> bytes:
        environment = {**os.environ, **(self.env or {})}
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            child = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=environment
            )
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            self.last_stdout = out.read()
            if child.returncode not in self.ok:
                tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
                raise BenchmarkError(
                    f"{' '.join(self.command)} exited {child.returncode}: {' / '.join(tail)}"
                )
        self.rss_kib.append(usage.ru_maxrss)
        return self.last_stdout


def peak_rss_figure(name: str, process: Process, note: str = "") -> Figure:
    megabytes = [kib / 1024 for kib in process.rss_kib]
    return plain(name, megabytes, unit="MiB", note=note or "largest process of its tree")


# --- the results document -----------------------------------------------------------------


def machine() -> str:
    system = f"{platform.system()} {platform.release()}"
    cores = f"{os.cpu_count()} cores"
    return f"{platform.machine()}, {cores}, {system}, Python {platform.python_version()}"


def commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    sha = done.stdout.strip() or "unknown"
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{sha}+dirty" if dirty else sha


def figure_rows(
    benchmark: str, figures: Sequence[Figure], *, machine: str, date: str, commit: str
) -> list[dict[str, Any]]:
    return [
        {"benchmark": benchmark, **f.as_dict(), "machine": machine, "date": date, "commit": commit}
        for f in figures
    ]


def results_document(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"schema": SCHEMA, "figures": list(rows)}


def merge_results(
    previous: Mapping[str, Any] | None, rows: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The new rows replace every row of the benchmarks they come from; others are kept."""
    ran = {row["benchmark"] for row in rows}
    kept = [
        row
        for row in (previous or {}).get("figures", [])
        if isinstance(row, dict) and row.get("benchmark") not in ran
    ]
    return results_document([*kept, *rows])


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


# --- the table ----------------------------------------------------------------------------


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s" and value < 1:
        return f"{value * 1000:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.4g} {unit}".strip()


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return f"{ratio:.2f}x" if ratio >= 0.01 else f"{ratio:.1g}x"


def render_table(rows: Sequence[Mapping[str, Any]]) -> str:
    header = ("figure", "median", "min..max", "runs", "compared with", "ratio", "goal")
    lines = []
    for row in rows:
        unit = row["unit"]
        spread = f"{_value(row['min'], unit)}..{_value(row['max'], unit)}"
        peer = "" if row["peer"] is None else f"{row['peer']} ({_value(row['peer_value'], unit)})"
        ratio = _ratio(row["ratio"])
        goal = "" if row["goal"] is None else f"{row['goal']}: {'met' if row['met'] else 'MISSED'}"
        lines.append(
            (row["name"], _value(row["value"], unit), spread, str(row["runs"]), peer, ratio, goal)
        )
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]
    out = []
    for cells in (header, *lines):
        out.append("  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    return "\n".join(out)


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The same table as Markdown, for the README's Performance section."""
    out = [
        "| figure | median | min..max | runs | compared with | ratio | goal |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        unit = row["unit"]
        peer = "" if row["peer"] is None else f"{row['peer']} ({_value(row['peer_value'], unit)})"
        ratio = _ratio(row["ratio"])
        goal = "" if row["goal"] is None else f"{row['goal']}: {'met' if row['met'] else 'missed'}"
        out.append(
            f"| {row['name']} | {_value(row['value'], unit)} | "
            f"{_value(row['min'], unit)}..{_value(row['max'], unit)} | {row['runs']} | "
            f"{peer} | {ratio} | {goal} |"
        )
    return "\n".join(out)


def figures_of(rows: Sequence[Mapping[str, Any]], benchmark: str) -> Iterator[Mapping[str, Any]]:
    return (row for row in rows if row["benchmark"] == benchmark)
