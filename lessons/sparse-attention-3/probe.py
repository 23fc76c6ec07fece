"""Sandbox side of sparse-attention-3: call the learner's sliding_window_attention per case.

Phase "main" runs the numeric cases: float64 on the CPU, float32 on the device, and the
large-input case in float32. Phase "memory" runs the same cases first (so both workers
have loaded the same libraries, on whatever device, and the runner's peak-RSS figures of
the two differ by the long call alone), then one long call on the CPU: seq 8192, whose
inputs it draws itself from the seed the judge sent (3 MiB that need not cross the
sandbox). It hands back only the rows the judge asked for and the number of
matrix-product FLOPs the call made, counted by a dispatch mode of its own.

Every call goes through ``probe.call``, so the lesson's forbidden calls (PyTorch's fused
attention, lesson.toml) are recorded in both phases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import probe_kit as kit
import torch
from torch.utils._python_dispatch import TorchDispatchMode

ENTRY = "sliding_window_attention"
aten = torch.ops.aten
# FLOPs of the matrix products, from the operand shapes: 2 * m * k * n per matrix.
MATMULS = {
    aten.mm.default: lambda a, b: 2 * a.shape[0] * a.shape[1] * b.shape[1],
    aten.addmm.default: lambda c, a, b: 2 * a.shape[0] * a.shape[1] * b.shape[1],
    aten.bmm.default: lambda a, b: 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2],
    aten.baddbmm.default: lambda c, a, b: 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2],
}


class MatmulFlops(TorchDispatchMode):
    """Counts the FLOPs of the matrix products that run inside it (mm, addmm, bmm, baddbmm)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # as probe_kit's recorder: keep torch._dynamo (and sympy) unimported

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        count = MATMULS.get(func)
        if count is not None:
            self.total += int(count(*args[:3]))
        return func(*args, **(kwargs or {}))


def _call(
    probe: kit.Probe,
    fn: Callable,
    inputs: kit.Inputs,
    case: str,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
) -> torch.Tensor:
    window = int(inputs[f"{case}.window"])
    tokens = inputs.get(f"{case}.global")
    # The default is part of the interface: pass global_tokens only when a case has some.
    kwargs = {} if tokens is None else {"global_tokens": tokens.to(q.device)}
    return probe.call(fn, q, k, v, window, **kwargs)


@kit.probe(ENTRY)
def run(probe: kit.Probe, fn: Callable, phase: str, inputs: kit.Inputs) -> None:
    for case in kit.case_names(inputs, ".window"):
        if case == "mem":
            continue
        f32 = case.startswith("f32")
        dev, dtype = (probe.device, torch.float32) if f32 else ("cpu", torch.float64)
        scale = float(inputs[f"{case}.scale"]) if f"{case}.scale" in inputs else 1.0
        q, k, v = (inputs[f"x.{n}"].to(dev, dtype) for n in ("q", "k", "v"))
        with probe.attempt(case):
            out = _call(probe, fn, inputs, case, q * scale, k * scale, v)
            if phase == "main":
                probe.keep(f"{case}.out", out)
    if phase != "memory":
        return
    with probe.attempt("mem"):
        seq, d_head = (int(n) for n in inputs["mem.shape"].tolist())
        generator = torch.Generator().manual_seed(int(inputs["mem.seed"]))
        q, k, v = (torch.randn(1, 1, seq, d_head, generator=generator) for _ in range(3))
        with MatmulFlops() as flops:
            out = _call(probe, fn, inputs, "mem", q, k, v)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (1, 1, seq, d_head):
            probe.keep("mem.out", out)  # the judge says what came back
        else:
            probe.keep("mem.out", out[..., inputs["mem.rows"], :])
        probe.keep("mem.flops", torch.tensor(float(flops.total), dtype=torch.float64))
