"""Sandbox side of state-space-models-2: call the learner's selective_scan on each case.

Cases ``<case>.u`` (and delta, A, B, C, and D where the case has one) run in float64 on
the CPU; the main case again in float32 on the device. A case without D calls
``selective_scan(u, delta, A, B, C)``, so the default D=None is part of the interface.
"""

from __future__ import annotations

from collections.abc import Callable

import probe_kit as kit
import torch

ENTRY = "selective_scan"


@kit.probe(ENTRY)
def run(probe: kit.Probe, fn: Callable, phase: str, inputs: kit.Inputs) -> None:
    for case in kit.case_names(inputs, ".u"):
        runs = [("", "cpu", torch.float64)]
        if case == "main":
            runs.append(("f32.", probe.device, torch.float32))
        names = ("u", "delta", "A", "B", "C", "D")
        if f"{case}.D" not in inputs:
            names = names[:-1]
        for prefix, device, dtype in runs:
            with probe.attempt(f"{prefix}{case}"):
                args = [inputs[f"{case}.{n}"].to(device, dtype) for n in names]
                probe.keep(f"{prefix}{case}.out", probe.call(fn, *args))
