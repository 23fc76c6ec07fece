"""python -m benchmarks [NAME...] [--quick] [--show]: run the benchmarks, print, keep the figures.

Each benchmark is `benchmarks/bench_<name>.py` with ``run(ctx) -> Iterator[Figure]``.
Without names every benchmark runs. A full run merges its figures into
benchmarks/results.json (the rows of the benchmarks it ran are replaced, the
others kept); `--quick` is the smoke run CI makes: one run, tiny sizes, nothing
written. `--show` prints the kept table (`--markdown` as README's table).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import harness

# Cheap first, so a broken benchmark shows early; files not listed run last.
ORDER = [
    "checkin",
    "remind",
    "due",
    "report",
    "import",
    "optimize",
    "attention",
    "submit",
]


def available() -> list[str]:
    found = {p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(available())}")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 run, tiny sizes")
    parser.add_argument("--show", action="store_true", help="print the kept results and stop")
    parser.add_argument("--markdown", action="store_true", help="with --show: a Markdown table")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per command")
    parser.add_argument("--device", default="cpu", help="for attention: cpu or cuda")
    parser.add_argument("--output", type=Path, default=harness.RESULTS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.show:
        if not args.output.exists():
            print(f"no results yet: {args.output}", file=sys.stderr)
            return 2
        rows = json.loads(args.output.read_text(encoding="utf-8"))["figures"]
        if args.names:
            rows = [r for r in rows if r["benchmark"] in args.names]
        print((harness.markdown_table if args.markdown else harness.render_table)(rows))
        return 0
    names = args.names or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(
            f"unknown benchmark: {', '.join(unknown)} (have {', '.join(available())})",
            file=sys.stderr,
        )
        return 2
    machine, date, commit = harness.machine(), harness.now_iso(), harness.commit()
    rows: list[dict] = []
    failed = []
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        started = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
            ctx = harness.Context(
                quick=args.quick, runs=args.runs, tmp=Path(tmp), device=args.device
            )
            try:
                figures = list(module.run(ctx))
            except harness.BenchmarkError as error:
                print(f"{name}: FAILED: {error}", file=sys.stderr)
                failed.append(name)
                continue
        new = harness.figure_rows(name, figures, machine=machine, date=date, commit=commit)
        rows += new
        print(harness.render_table(new), flush=True)
        print(f"({name}: {time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    if rows and len(names) > 1:
        print("\n" + harness.render_table(rows))
    if not args.quick and rows:
        previous = None
        if args.output.exists():
            previous = json.loads(args.output.read_text(encoding="utf-8"))
        document = harness.merge_results(previous, rows)
        args.output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        print(f"saved {len(rows)} figures to {args.output}", file=sys.stderr)
    elif args.quick:
        print("quick run: figures not kept", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
