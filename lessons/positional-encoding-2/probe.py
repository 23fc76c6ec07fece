"""Sandbox side of positional-encoding-2: call the learner's function for each size.

Torch and the standard library only; each call is caught on its own.
"""

from __future__ import annotations

import types

import torch

ENTRY = "sinusoidal_positional_encoding"


def run(
    submission: types.ModuleType, phase: str, inputs: dict[str, torch.Tensor], device: str
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    outputs: dict[str, torch.Tensor] = {}
    notes: dict[str, str] = {}
    fn = getattr(submission, ENTRY, None)
    if not callable(fn):
        notes["construct"] = f"the file defines no function {ENTRY}"
        return outputs, notes
    for index, (seq_len, d_model) in enumerate(inputs["sizes"].tolist()):
        key = f"pe.{index}"
        try:
            with torch.no_grad():
                value = fn(int(seq_len), int(d_model))
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"returned {type(value).__name__}, not a tensor")
            outputs[key] = value.detach().to("cpu").contiguous()
        except Exception as exc:  # noqa: BLE001 - any learner error becomes a note
            notes[key] = f"{type(exc).__name__}: {exc}"[:500]
    return outputs, notes
