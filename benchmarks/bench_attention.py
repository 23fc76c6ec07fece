"""The flash-attention reference against PyTorch's fused attention and the naive full matrix.

Run with the others (`python -m benchmarks attention [--device cuda]`) or alone:
`python -m benchmarks.bench_attention [--device cuda] [--quick]`.

Three implementations of softmax(q k^T / sqrt(d)) v on (batch 1, heads 1, seq, 64)
float32 tensors: lessons/flash-attention-3/reference.py as it ships (tiles of 64,
an online softmax, in pure PyTorch), ``torch.nn.functional.scaled_dot_product_attention``
and the naive full-matrix ``softmax(q @ k.T * scale) @ v``, at sequence lengths 1k
to 16k. Each length runs in a fresh child process; inside it the three alternate
round by round after a warm-up (the call that measures memory). Time is wall
seconds per call (cuda: synchronised); peak memory is what one call adds at its
peak above what was resident before it (cpu: the process's VmHWM, reset through
/proc/self/clear_refs; cuda: ``torch.cuda.max_memory_allocated``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.harness import ROOT, Context, Figure, compared, render_table

REFERENCE = ROOT / "lessons" / "flash-attention-3" / "reference.py"
LENGTHS = (1024, 2048, 4096, 8192, 16384)
IMPLEMENTATIONS = ("flash reference", "sdpa", "naive")


def _kib(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+)", status).group(1))


def measure(seq: int, device: str, runs: int, warmup: int) -> dict:
    """Times and peak extra bytes of each implementation at ``seq`` (in this process)."""
    import torch
    import torch.nn.functional as F

    spec = importlib.util.spec_from_file_location("flash_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 1, seq, 64, device=device) for _ in range(3))
    scale = 1.0 / math.sqrt(q.shape[-1])
    calls = {
        "flash reference": lambda: module.flash_attention(q, k, v),
        "sdpa": lambda: F.scaled_dot_product_attention(q, k, v),
        "naive": lambda: torch.softmax((q @ k.transpose(-2, -1)) * scale, dim=-1) @ v,
    }
    cuda = device.startswith("cuda")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    small = [t[..., :128, :] for t in (q, k, v)]
    module.flash_attention(*small)  # first calls pay lazy set-up, not the length's cost
    F.scaled_dot_product_attention(*small)
    torch.softmax(small[0] @ small[1].transpose(-2, -1), dim=-1) @ small[2]
    peak: dict[str, int] = {}
    outputs = {}
    for name, call in calls.items():  # this call is also each one's warm-up for the timing
        sync()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        else:
            Path("/proc/self/clear_refs").write_text("5")
            before = _kib("VmRSS") * 1024
        outputs[name] = call()
        sync()
        if cuda:
            peak[name] = torch.cuda.max_memory_allocated() - before
        else:
            peak[name] = _kib("VmHWM") * 1024 - before
    error = (outputs["flash reference"] - outputs["sdpa"]).abs().max().item()
    del outputs
    times: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for round_ in range(warmup + runs):
        for name in names if round_ % 2 == 0 else names[::-1]:
            sync()
            start = time.perf_counter()
            calls[name]()
            sync()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return {"seq": seq, "times": times, "peak_bytes": peak, "max_abs_error": error,
            "threads": torch.get_num_threads()}  # fmt: skip


def run(ctx: Context) -> Iterator[Figure]:
    lengths = LENGTHS if not ctx.quick else (256,)
    for seq in lengths:
        # The reference at 16k on a CPU takes a minute a call: fewer runs the longer it is.
        runs = ctx.runs_for({8192: 2, 16384: 1}.get(seq, 3) if ctx.device == "cpu" else 5)
        child = [
            sys.executable,
            "-m",
            "benchmarks.bench_attention",
            "--child",
            str(seq),
            "--device",
            ctx.device,
            "--runs",
            str(runs),
            "--warmup",
            "0",
        ]
        done = subprocess.run(child, capture_output=True, text=True, cwd=ROOT, check=False)
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
            ctx.log(f"attention at {seq}: {tail[0]}; longer lengths skipped")
            return
        r = json.loads(done.stdout.strip().splitlines()[-1])
        t, mem = r["times"], {n: [b / 2**20] for n, b in r["peak_bytes"].items()}
        label = f"{seq // 1024}k" if seq >= 1024 else str(seq)
        note = f"{ctx.device}, {r['threads']} threads; max |flash - sdpa| {r['max_abs_error']:.1e}"
        flash = "flash reference"
        yield compared(f"attention {label} {ctx.device}: flash reference time", t[flash],
                       "sdpa", t["sdpa"], note=note)  # fmt: skip
        yield compared(f"attention {label} {ctx.device}: flash reference time", t[flash],
                       "naive", t["naive"])  # fmt: skip
        yield compared(f"attention {label} {ctx.device}: flash reference peak memory", mem[flash],
                       "sdpa", mem["sdpa"], unit="MiB")  # fmt: skip
        yield compared(f"attention {label} {ctx.device}: flash reference peak memory", mem[flash],
                       "naive", mem["naive"], unit="MiB")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.device, args.runs, args.warmup)))
        return 0
    import tempfile

    from benchmarks.harness import figure_rows, machine, now_iso

    with tempfile.TemporaryDirectory() as tmp:
        ctx = Context(quick=args.quick, runs=args.runs, tmp=Path(tmp), device=args.device)
        rows = figure_rows("attention", list(run(ctx)), machine=machine(), date=now_iso(),
                           commit="")  # fmt: skip
    print(render_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
