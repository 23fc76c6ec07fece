"""Sandbox side of positional-encoding-3: call the learner's apply_rope on each case.

A case is ``<name>.x``, with ``.positions`` and ``.base`` when it sets them (only what
a case sets is passed, so the defaults are part of the interface). Cases named
``f32.*`` run in float32 on the device, the others in float64 on the CPU. The cases
``rel.q`` and ``rel.k`` rotate one query and one key vector to many positions; the judge
reads the relative-position property off their dot products.
"""

from __future__ import annotations

from collections.abc import Callable

import probe_kit as kit
import torch

ENTRY = "apply_rope"


@kit.probe(ENTRY)
def run(probe: kit.Probe, fn: Callable, phase: str, inputs: kit.Inputs) -> None:
    for case in kit.case_names(inputs, ".x"):
        on_device = case.startswith("f32.")
        device, dtype = (probe.device, torch.float32) if on_device else ("cpu", torch.float64)
        x = inputs[f"{case}.x"].to(device=device, dtype=dtype)
        kwargs: dict[str, object] = {}
        if f"{case}.positions" in inputs:
            kwargs["positions"] = inputs[f"{case}.positions"].to(device)
        if f"{case}.base" in inputs:
            kwargs["base"] = float(inputs[f"{case}.base"])
        with probe.attempt(case):
            probe.keep(f"{case}.out", probe.call(fn, x, **kwargs))
