"""Sandbox side of rlhf-2: call the learner's dpo_loss on each case, once more with gradients.

Cases (``<case>.pc`` and so on, with ``<case>.beta`` holding beta or NaN for the
default) run in float64 on the CPU; the default-beta case runs again in float32 on the
device. One call with ``requires_grad`` policy log-probs hands back their gradients and
whether the rewards came back detached (flags, not tensors: the judge cannot recompute
them, so they can only fail the check).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import probe_kit as kit
import torch

ENTRY = "dpo_loss"
NAMES = ("pc", "pr", "rc", "rr")
PARTS = ("loss", "chosen", "rejected")


def triple(result: object) -> tuple[Any, Any, Any]:
    """The (loss, chosen_rewards, rejected_rewards) a call must return, else TypeError."""
    expected = "expected a tuple (loss, chosen_rewards, rejected_rewards)"
    if isinstance(result, torch.Tensor):
        raise TypeError(f"returned one tensor; {expected}")
    if not isinstance(result, tuple | list) or len(result) != 3:
        size = f" of {len(result)}" if isinstance(result, tuple | list) else ""
        raise TypeError(f"returned {type(result).__name__}{size}; {expected}")
    return result[0], result[1], result[2]


@kit.probe(ENTRY)
def run(probe: kit.Probe, fn: Callable, phase: str, inputs: kit.Inputs) -> None:
    def call(case: str, device: str, dtype: torch.dtype, grad: bool = False) -> tuple:
        args = [inputs[f"{case}.{n}"].to(device, dtype).clone() for n in NAMES]
        if grad:
            args[0].requires_grad_(True)
            args[1].requires_grad_(True)
        beta = float(inputs[f"{case}.beta"])
        kwargs = {} if math.isnan(beta) else {"beta": beta}
        return args, triple(probe.call(fn, *args, grad=grad, **kwargs))

    for case in kit.case_names(inputs, ".beta"):
        runs = [("", "cpu", torch.float64)]
        if case == "main" or case == "large":
            runs.append(("f32.", probe.device, torch.float32))
        for prefix, device, dtype in runs:
            with probe.attempt(f"{prefix}{case}"):
                _, values = call(case, device, dtype)
                for part, value in zip(PARTS, values, strict=True):
                    probe.keep(f"{prefix}{case}.{part}", value)

    for case in ("main", "large"):
        with probe.attempt(f"grad.{case}"):
            args, (loss, chosen, rejected) = call(case, "cpu", torch.float64, grad=True)
            if case == "main":
                for part, value in (("chosen", chosen), ("rejected", rejected)):
                    attached = isinstance(value, torch.Tensor) and value.requires_grad
                    probe.outputs[f"grad.{part}_attached"] = torch.tensor(attached)
            if not isinstance(loss, torch.Tensor):
                raise TypeError(f"the loss is {type(loss).__name__}, not a tensor")
            loss.backward()
            for name, arg in zip(("pc", "pr"), args, strict=False):
                if arg.grad is None:
                    raise RuntimeError(f"no gradient reached the {name} argument")
                probe.keep(f"grad.{case}.{name}", arg.grad)
