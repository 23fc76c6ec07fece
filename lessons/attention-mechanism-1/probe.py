"""Sandbox side of attention-mechanism-1: call the learner's function on each case.

Torch and the standard library only. Every case in the inputs (``case.<name>.q`` and
so on) is run once in float64 on the CPU and once in float32 on the device; each
call is caught on its own and its exception becomes a note.
"""

from __future__ import annotations

import types

import torch

ENTRY = "scaled_dot_product_attention"


def run(
    submission: types.ModuleType, phase: str, inputs: dict[str, torch.Tensor], device: str
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    outputs: dict[str, torch.Tensor] = {}
    notes: dict[str, str] = {}
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    fn = getattr(submission, ENTRY, None)
    if not callable(fn):
        notes["construct"] = f"the file defines no function {ENTRY}"
        return outputs, notes
    cases = sorted({key.split(".")[1] for key in inputs if key.startswith("case.")})
    for case in cases:
        for prefix, dev, dtype in (("", "cpu", torch.float64), ("f32.", device, torch.float32)):
            args = [inputs[f"case.{case}.{n}"] for n in ("q", "k", "v")]
            args = [a.to(device=dev, dtype=dtype) for a in args]
            mask = inputs.get(f"case.{case}.mask")
            if mask is not None:
                args.append(mask.to(dev))
            try:
                with torch.no_grad():
                    result = fn(*args)
                if isinstance(result, torch.Tensor):
                    raise TypeError("returned one tensor; expected a tuple (output, weights)")
                if not isinstance(result, (tuple, list)) or len(result) != 2:
                    raise TypeError(
                        f"returned {type(result).__name__}; expected a tuple (output, weights)"
                    )
                for what, value in zip(("out", "weights"), result, strict=True):
                    if not isinstance(value, torch.Tensor):
                        raise TypeError(f"the {what} is {type(value).__name__}, not a tensor")
                    outputs[f"{prefix}{case}.{what}"] = value.detach().to("cpu").contiguous()
            except Exception as exc:  # noqa: BLE001 - any learner error becomes a note
                notes[f"{prefix}{case}"] = f"{type(exc).__name__}: {exc}"[:500]
    return outputs, notes
