"""The benchmark harness: paired rounds, ratios, the results document, the entry point.

Timing logic runs on fake clocks (an action advances the clock by what it "costs");
the entry point runs on a fake benchmark module, and once for real in quick mode.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import __main__ as entry
from benchmarks import harness
from benchmarks.harness import BenchmarkError, Context, Figure, Process, compared, interleave

ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def costing(clock: FakeClock, log: list[str], name: str, costs: list[float]):
    """An action that logs its name and advances the clock by its next cost."""
    remaining = iter(costs)

    def action() -> None:
        log.append(name)
        clock.now += next(remaining)

    return action


def test_interleave_alternates_rounds_and_drops_the_warmup() -> None:
    clock, log = FakeClock(), []
    actions = {
        "floor": costing(clock, log, "floor", [9.0, 1.0, 1.1, 1.2]),
        "cmd": costing(clock, log, "cmd", [9.0, 2.0, 2.2, 2.4]),
    }
    samples = interleave(actions, runs=3, warmup=1, clock=clock)
    # Round 0 (warm-up) A B, then B A, A B, B A: neither always runs second.
    assert log == ["floor", "cmd", "cmd", "floor", "floor", "cmd", "cmd", "floor"]
    assert samples == {
        "floor": pytest.approx([1.0, 1.1, 1.2]),
        "cmd": pytest.approx([2.0, 2.2, 2.4]),
    }


def test_drift_during_a_run_cancels_in_the_ratio() -> None:
    """A machine slowing down 10% a round slows both sides of each pair alike."""
    clock, log = FakeClock(), []
    slow = [1.1**r for r in range(5)]
    actions = {
        "floor": costing(clock, log, "floor", [1.0 * s for s in slow]),
        "cmd": costing(clock, log, "cmd", [3.0 * s for s in slow]),
    }
    t = interleave(actions, runs=5, warmup=0, clock=clock)
    figure = compared("cmd", t["cmd"], "floor", t["floor"], max_ratio=3.0)
    assert figure.ratio == pytest.approx(3.0)
    assert figure.met is True


def test_compared_is_median_over_median_with_its_goal() -> None:
    figure = compared("status", [0.09, 0.30, 0.10], "sqlite", [0.02, 0.03, 0.04], max_ratio=3)
    assert figure.value == 0.10
    assert figure.peer_value == 0.03
    assert figure.ratio == pytest.approx(0.10 / 0.03)
    assert (figure.goal, figure.met) == ("ratio <= 3", False)


def test_plain_figure_with_an_absolute_goal() -> None:
    figure = harness.plain("report --format html", [1.5, 2.5, 1.9], max_value=2)
    assert (figure.value, figure.goal, figure.met) == (1.9, "value <= 2 s", True)


def test_a_figure_row_holds_what_results_json_promises() -> None:
    figure = compared("checkin", [0.5, 0.7, 0.6], "floor", [0.4, 0.4, 0.5], max_ratio=1.3)
    (row,) = harness.figure_rows(
        "checkin", [figure], machine="x86_64, 2 cores", date="2026-12-02T18:00:00+00:00",
        commit="abc123",
    )  # fmt: skip
    assert row == {
        "benchmark": "checkin",
        "name": "checkin",
        "value": 0.6,
        "unit": "s",
        "peer": "floor",
        "peer_value": 0.4,
        "ratio": 1.5,
        "goal": "ratio <= 1.3",
        "met": False,
        "runs": 3,
        "min": 0.5,
        "median": 0.6,
        "max": 0.7,
        "note": "",
        "machine": "x86_64, 2 cores",
        "date": "2026-12-02T18:00:00+00:00",
        "commit": "abc123",
    }


def test_merge_replaces_the_rerun_benchmarks_and_keeps_the_others() -> None:
    old = harness.results_document(
        [
            {"benchmark": "due", "name": "due old"},
            {"benchmark": "checkin", "name": "checkin old"},
        ]
    )
    merged = harness.merge_results(old, [{"benchmark": "checkin", "name": "checkin new"}])
    assert merged == {
        "schema": 1,
        "figures": [
            {"benchmark": "due", "name": "due old"},
            {"benchmark": "checkin", "name": "checkin new"},
        ],
    }


def test_the_table_says_which_goals_are_missed() -> None:
    rows = harness.figure_rows(
        "checkin",
        [compared("status", [0.08], 'python -c "import sqlite3"', [0.02], max_ratio=3)],
        machine="m",
        date="d",
        commit="c",
    )
    table = harness.render_table(rows).splitlines()
    assert table[0].split() == [
        "figure", "median", "min..max", "runs", "compared", "with", "ratio", "goal",
    ]  # fmt: skip
    assert table[1].split() == [
        "status", "80.0", "ms", "80.0", "ms..80.0", "ms", "1", "python", "-c",
        '"import', 'sqlite3"', "(20.0", "ms)", "4.00x", "ratio", "<=", "3:", "MISSED",
    ]  # fmt: skip
    assert "| status | 80.0 ms |" in harness.markdown_table(rows)


def test_a_process_records_its_peak_rss_and_a_failure_names_its_exit_and_stderr() -> None:
    process = Process([sys.executable, "-c", "x = bytearray(50_000_000); print('ok')"])
    assert process() == b"ok\n"
    assert process.rss_kib[0] > 50_000_000 / 1024
    figure = harness.peak_rss_figure("peak", process)
    assert figure.unit == "MiB" and figure.value > 47
    failing = Process([sys.executable, "-c", "import sys; sys.stderr.write('boom\\n'); exit(3)"])
    with pytest.raises(BenchmarkError) as raised:
        failing()
    assert (
        str(raised.value)
        == f"{sys.executable} -c import sys; sys.stderr.write('boom\\n'); exit(3) exited 3: boom"
    )


def test_quick_context_runs_once_on_tiny_sizes() -> None:
    quick, full = Context(quick=True, runs=5), Context(quick=False, runs=5)
    assert (quick.runs_for(9), quick.warmups(), quick.size(1000, 10)) == (1, 0, 10)
    assert (full.runs_for(9), full.runs_for(), full.warmups(), full.size(1000, 10)) == (
        9,
        5,
        1,
        1000,
    )


@pytest.fixture
def fake_benchmark(monkeypatch: pytest.MonkeyPatch) -> list[Context]:
    """`benchmarks.bench_fake`: one figure, and the contexts it was run with."""
    seen: list[Context] = []

    def run(ctx: Context) -> Iterator[Figure]:
        seen.append(ctx)
        yield compared("fake", [2.0] * ctx.runs_for(), "floor", [1.0] * ctx.runs_for())

    module = types.ModuleType("benchmarks.bench_fake")
    module.run = run
    monkeypatch.setitem(sys.modules, "benchmarks.bench_fake", module)
    monkeypatch.setattr(entry, "available", lambda: ["fake", "checkin"])
    return seen


def test_a_full_run_merges_its_figures_into_the_results(
    tmp_path: Path, fake_benchmark: list[Context], capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "results.json"
    output.write_text(json.dumps(harness.results_document([{"benchmark": "checkin"}])))
    assert entry.main(["fake", "--runs", "3", "--output", str(output)]) == 0
    document = json.loads(output.read_text())
    assert [row["benchmark"] for row in document["figures"]] == ["checkin", "fake"]
    fake = document["figures"][1]
    assert (fake["name"], fake["ratio"], fake["runs"], fake["peer"]) == ("fake", 2.0, 3, "floor")
    assert {"machine", "date", "commit"} <= fake.keys()
    assert fake_benchmark[0].quick is False
    assert "fake" in capsys.readouterr().out
    assert entry.main(["--show", "fake", "--output", str(output)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == [
        "fake", "2.00", "s", "2.00", "s..2.00", "s", "3", "floor", "(1.00", "s)", "2.00x",
    ]  # fmt: skip


def test_a_quick_run_keeps_nothing(
    tmp_path: Path, fake_benchmark: list[Context], capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "results.json"
    assert entry.main(["fake", "--quick", "--output", str(output)]) == 0
    assert not output.exists()
    assert fake_benchmark[0].quick is True
    assert "quick run: figures not kept" in capsys.readouterr().err


def test_an_unknown_benchmark_is_one_line_and_exit_2(
    fake_benchmark: list[Context], capsys: pytest.CaptureFixture[str]
) -> None:
    assert entry.main(["nope"]) == 2
    assert capsys.readouterr().err == "unknown benchmark: nope (have fake, checkin)\n"


def test_every_benchmark_module_has_the_uniform_function() -> None:
    import importlib

    names = entry.available()
    assert {
        "checkin",
        "due",
        "submit",
        "remind",
        "report",
        "import",
        "optimize",
        "attention",
    } <= set(names)
    for name in names:
        assert callable(importlib.import_module(f"benchmarks.bench_{name}").run)


@pytest.mark.slow
def test_the_quick_smoke_run_of_a_cheap_benchmark(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "checkin", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr
    names = [line.split("  ")[0] for line in done.stdout.splitlines()[1:]]
    assert names == ["checkin", "checkin --json", "status", "status --json", "checkin peak RSS"]
    assert not output.exists()
    assert done.stderr.splitlines()[-1] == "quick run: figures not kept"
