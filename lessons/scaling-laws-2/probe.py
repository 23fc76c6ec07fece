"""Sandbox side of scaling-laws-2: call chinchilla_optimal and chinchilla_loss per case.

``opt.<case>.compute`` budgets go to chinchilla_optimal and ``loss.<case>.n`` / ``.d`` to
chinchilla_loss, with the constants in ``<kind>.<case>.constants`` passed by keyword
(NaN: the defaults, passed as nothing). Float64 on the CPU; the default-constant cases
again in float32 on the device.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import probe_kit as kit
import torch

NAMES = ("E", "A", "B", "alpha", "beta")


def constants(inputs: kit.Inputs, key: str) -> dict[str, float]:
    values = inputs[key].tolist()
    return {} if math.isnan(values[0]) else dict(zip(NAMES, values, strict=True))


@kit.probe("chinchilla_optimal")
def run(probe: kit.Probe, optimal: Callable, phase: str, inputs: kit.Inputs) -> None:
    loss = probe.function("chinchilla_loss")
    if loss is None:
        return
    runs = (("", "cpu", torch.float64), ("f32.", probe.device, torch.float32))
    for case in kit.case_names(inputs, ".compute"):
        kwargs = constants(inputs, f"{case}.constants")
        for prefix, device, dtype in runs if not kwargs else runs[:1]:
            with probe.attempt(f"{prefix}{case}"):
                compute = inputs[f"{case}.compute"].to(device, dtype)
                n, d = kit.pair(probe.call(optimal, compute, **kwargs), "n_params", "n_tokens")
                probe.keep(f"{prefix}{case}.n", n)
                probe.keep(f"{prefix}{case}.d", d)
    for case in kit.case_names(inputs, ".n_params"):
        kwargs = constants(inputs, f"{case}.constants")
        for prefix, device, dtype in runs if not kwargs else runs[:1]:
            with probe.attempt(f"{prefix}{case}"):
                n, d = (inputs[f"{case}.{x}"].to(device, dtype) for x in ("n_params", "n_tokens"))
                probe.keep(f"{prefix}{case}.loss", probe.call(loss, n, d, **kwargs))
