"""Sandbox side of positional-encoding-2: call the learner's function for each size.

Each call is caught on its own (probe_kit).
"""

from __future__ import annotations

import types

import probe_kit as kit
import torch

ENTRY = "sinusoidal_positional_encoding"


def run(
    submission: types.ModuleType, phase: str, inputs: dict[str, torch.Tensor], device: str
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    probe = kit.Probe(submission, device)
    fn = probe.function(ENTRY)
    if fn is None:
        return probe.result()
    for index, (seq_len, d_model) in enumerate(inputs["sizes"].tolist()):
        with probe.attempt(f"pe.{index}"):
            probe.keep(f"pe.{index}", probe.call(fn, int(seq_len), int(d_model)))
    return probe.result()
