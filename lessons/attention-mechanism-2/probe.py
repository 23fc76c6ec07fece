"""Sandbox side of attention-mechanism-2: call the learner's masked_attention on each case.

A case is ``<name>.q/.k/.v``, with ``.causal`` and ``.kpm`` (the key padding mask) when
it sets them; only the arguments a case sets are passed, so the defaults are part of
the interface. Cases named ``f32.*`` run in float32 on the device, the others in
float64 on the CPU. One more call back-propagates through the left-padded causal case,
whose first rows see no key, and hands back the gradients of q, k and v.
"""

from __future__ import annotations

from collections.abc import Callable

import probe_kit as kit
import torch

ENTRY = "masked_attention"


def _arguments(
    inputs: kit.Inputs, case: str, device: str, dtype: torch.dtype
) -> tuple[list[torch.Tensor], dict[str, object]]:
    args = [inputs[f"{case}.{n}"].to(device=device, dtype=dtype) for n in ("q", "k", "v")]
    kwargs: dict[str, object] = {}
    if f"{case}.causal" in inputs:
        kwargs["causal"] = True
    if f"{case}.kpm" in inputs:
        kwargs["key_padding_mask"] = inputs[f"{case}.kpm"].to(device)
    return args, kwargs


@kit.probe(ENTRY)
def run(probe: kit.Probe, fn: Callable, phase: str, inputs: kit.Inputs) -> None:
    for case in kit.case_names(inputs, ".q"):
        on_device = case.startswith("f32.")
        device, dtype = (probe.device, torch.float32) if on_device else ("cpu", torch.float64)
        args, kwargs = _arguments(inputs, case, device, dtype)
        with probe.attempt(case):
            probe.keep(f"{case}.out", probe.call(fn, *args, **kwargs))
    with probe.attempt("grad"):
        args, kwargs = _arguments(inputs, "leftpad", "cpu", torch.float64)
        for tensor in args:
            tensor.requires_grad_(True)
        out = probe.call(fn, *args, grad=True, **kwargs)
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"returned {type(out).__name__}, not a tensor")
        (out * inputs["grad_seed"]).sum().backward()
        for name, tensor in zip(("q", "k", "v"), args, strict=True):
            if tensor.grad is not None:
                probe.keep(f"grad.{name}", tensor.grad)
