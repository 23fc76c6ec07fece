"""Sandbox side of flash-attention-3: call the learner's flash_attention per case.

Torch and the standard library only. Phase "main" runs the numeric cases (float64
on the CPU, float32 on the device); phases "memory_baseline" and "memory" each make
one call, small and large, so the runner's outside measurement of peak memory
(RSS, or CUDA's max_memory_allocated) tells a tiled implementation from one that
builds the whole score matrix.
"""

from __future__ import annotations

import types

import torch

ENTRY = "flash_attention"


def _call(
    fn: object, inputs: dict[str, torch.Tensor], case: str, device: str, dtype: torch.dtype
) -> torch.Tensor:
    q, k, v = (inputs[f"{case}.{n}"].to(device=device, dtype=dtype) for n in ("q", "k", "v"))
    causal, block = (int(x) for x in inputs[f"{case}.args"].tolist())
    with torch.no_grad():
        if block <= 0 and not causal:
            result = fn(q, k, v)  # type: ignore[operator]
        elif block <= 0:
            result = fn(q, k, v, causal=True)  # type: ignore[operator]
        else:
            result = fn(q, k, v, causal=bool(causal), block_size=block)  # type: ignore[operator]
    if not isinstance(result, torch.Tensor):
        raise TypeError(f"returned {type(result).__name__}, not a tensor")
    return result.detach().to("cpu").contiguous()


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
    cases = sorted({key.split(".")[0] for key in inputs if key.endswith(".args")})
    for case in cases:
        runs = [("", "cpu", torch.float64)] if phase == "main" else []
        if phase != "main" or case.startswith("f32"):
            runs = [("", device, torch.float32)]
        for prefix, dev, dtype in runs:
            try:
                outputs[f"{prefix}{case}.out"] = _call(fn, inputs, case, dev, dtype)
            except Exception as exc:  # noqa: BLE001 - any learner error becomes a note
                notes[f"{prefix}{case}"] = f"{type(exc).__name__}: {exc}"[:500]
    return outputs, notes
