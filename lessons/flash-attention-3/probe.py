"""Sandbox side of flash-attention-3: call the learner's flash_attention per case.

Phase "main" runs the numeric cases (float64 on the CPU, float32 on the device); phases
"memory_baseline" and "memory" each make one call, small and large, so the runner's
outside measurement of peak RSS tells a tiled implementation from one that builds the
whole score matrix. Every call goes through ``probe.call``, so the lesson's forbidden
calls (PyTorch's fused attention, lesson.toml) are recorded in every phase.
"""

from __future__ import annotations

from collections.abc import Callable

import probe_kit as kit
import torch

ENTRY = "flash_attention"


@kit.probe(ENTRY)
def run(probe: kit.Probe, fn: Callable, phase: str, inputs: kit.Inputs) -> None:
    for case in kit.case_names(inputs, ".args"):
        on_cpu = phase == "main" and not case.startswith("f32")
        dev, dtype = ("cpu", torch.float64) if on_cpu else (probe.device, torch.float32)
        q, k, v = (inputs[f"{case}.{n}"].to(device=dev, dtype=dtype) for n in ("q", "k", "v"))
        causal, block = (int(x) for x in inputs[f"{case}.args"].tolist())
        # The defaults are part of the interface: pass only what a case sets.
        kwargs = {"causal": bool(causal), "block_size": block} if block > 0 else {}
        if causal and not kwargs:
            kwargs = {"causal": True}
        with probe.attempt(case):
            probe.keep(f"{case}.out", probe.call(fn, q, k, v, **kwargs))
