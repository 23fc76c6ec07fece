"""Sandbox side of mechanistic-interpretability-2: score the patterns the judge sent.

Cases: "model", the patterns of the planted two-layer model on a random sequence
repeated twice, and "random", random causal patterns of another size; each in float64
on the CPU and in float32 on the device. Both functions are called on each case, each
call caught on its own; a missing previous_token_scores is the note "construct".
"""

from __future__ import annotations

from collections.abc import Callable

import probe_kit as kit
import torch

ENTRY, SECOND = "induction_scores", "previous_token_scores"


@kit.probe(ENTRY)
def run(probe: kit.Probe, induction: Callable, phase: str, inputs: kit.Inputs) -> None:
    previous = probe.function(SECOND)
    if previous is None:
        return
    for case in kit.case_names(inputs, ".patterns"):
        first_len = int(inputs[f"{case}.first_len"])
        for prefix, dev, dtype in (
            ("", "cpu", torch.float64),
            ("f32.", probe.device, torch.float32),
        ):
            patterns = inputs[f"{case}.patterns"].to(dev, dtype)
            with probe.attempt(f"{prefix}{case}.induction"):
                scores = probe.call(induction, patterns.clone(), first_len)
                probe.keep(f"{prefix}{case}.induction", scores)
            with probe.attempt(f"{prefix}{case}.previous"):
                probe.keep(f"{prefix}{case}.previous", probe.call(previous, patterns.clone()))
