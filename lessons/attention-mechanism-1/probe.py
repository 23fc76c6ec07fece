"""Sandbox side of attention-mechanism-1: call the learner's function on each case.

Every case in the inputs (``case.<name>.q`` and so on) runs once in float64 on the CPU
and once in float32 on the device; each call is caught on its own (probe_kit).
"""

from __future__ import annotations

from collections.abc import Callable

import probe_kit as kit
import torch

ENTRY = "scaled_dot_product_attention"


@kit.probe(ENTRY)
def run(probe: kit.Probe, fn: Callable, phase: str, inputs: kit.Inputs) -> None:
    for case in kit.case_names(inputs, ".q"):
        name = case.removeprefix("case.")
        for prefix, dev, dtype in (
            ("", "cpu", torch.float64),
            ("f32.", probe.device, torch.float32),
        ):
            args = [inputs[f"{case}.{n}"].to(device=dev, dtype=dtype) for n in ("q", "k", "v")]
            if f"{case}.mask" in inputs:
                args.append(inputs[f"{case}.mask"].to(dev))
            with probe.attempt(f"{prefix}{name}"):
                out, weights = kit.pair(probe.call(fn, *args), "output", "weights")
                probe.keep(f"{prefix}{name}.out", out)
                probe.keep(f"{prefix}{name}.weights", weights)
