"""Sandbox side of positional-encoding-2: call the learner's function for each size.

Each call is caught on its own (probe_kit).
"""

from __future__ import annotations

from collections.abc import Callable

import probe_kit as kit

ENTRY = "sinusoidal_positional_encoding"


@kit.probe(ENTRY)
def run(probe: kit.Probe, fn: Callable, phase: str, inputs: kit.Inputs) -> None:
    for index, (seq_len, d_model) in enumerate(inputs["sizes"].tolist()):
        with probe.attempt(f"pe.{index}"):
            probe.keep(f"pe.{index}", probe.call(fn, int(seq_len), int(d_model)))
