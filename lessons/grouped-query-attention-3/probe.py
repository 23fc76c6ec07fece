"""Sandbox side of grouped-query-attention-3: load trusted weights, run each configuration.

Torch and the standard library only. For each configuration (GQA, MQA with one
K/V head, plain MHA with as many K/V heads as query heads) it builds the learner's
module, copies the weights in through W_Q, W_K, W_V, W_O, and returns outputs in
float64 on the CPU and float32 on the device; each step is caught on its own.
Masked cases: a 0/1 causal mask, and bool (batch, 1, 1, seq_k) padding masks on
self- and cross-attention, passed as given.
"""

from __future__ import annotations

import types

import torch

ENTRY = "GroupedQueryAttention"
LAYERS = ("W_Q", "W_K", "W_V", "W_O")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _load(module: torch.nn.Module, inputs: dict[str, torch.Tensor], prefix: str) -> None:
    with torch.no_grad():
        for name in LAYERS:
            layer = getattr(module, name, None)
            weight = getattr(layer, "weight", None)
            if not isinstance(weight, torch.Tensor):
                raise AttributeError(f"{ENTRY} has no attribute {name} (an nn.Linear)")
            expected = inputs[f"{prefix}{name}.weight"]
            if tuple(weight.shape) != tuple(expected.shape):
                raise ValueError(
                    f"{name}.weight has shape {tuple(weight.shape)}; expected "
                    f"{tuple(expected.shape)} (out_features, in_features)"
                )
            weight.copy_(expected)
            bias = getattr(layer, "bias", None)
            if not isinstance(bias, torch.Tensor):
                raise ValueError(f"{name} has no bias; use nn.Linear(...) with bias=True")
            bias.copy_(inputs[f"{prefix}{name}.bias"])


def _out(result: object) -> torch.Tensor:
    value = result[0] if isinstance(result, (tuple, list)) and result else result
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"forward returned {type(value).__name__}, not a tensor")
    return value.detach().to("cpu").contiguous()


def run(
    submission: types.ModuleType, phase: str, inputs: dict[str, torch.Tensor], device: str
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    outputs: dict[str, torch.Tensor] = {}
    notes: dict[str, str] = {}
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    cls = getattr(submission, ENTRY, None)
    if cls is None:
        notes["construct"] = f"the file defines no {ENTRY}"
        return outputs, notes
    configs = sorted({k.split(".")[0] for k in inputs if k.endswith(".config")})
    x, cq, ck, cv = inputs["x"], inputs["cq"], inputs["ck"], inputs["cv"]
    masked = {  # case: (args without the mask, input name of the mask)
        "causal": ((x, x, x), "mask_causal"),
        "pad": ((x, x, x), "mask_pad"),
        "padcross": ((cq, ck, cv), "mask_padcross"),
    }
    for config in configs:
        d_model, num_heads, num_kv = (int(v) for v in inputs[f"{config}.config"].tolist())
        try:
            module = cls(d_model, num_heads, num_kv)
            module.double().eval()
            _load(module, inputs, f"{config}.w.")
        except Exception as exc:  # noqa: BLE001 - any learner error becomes a note
            notes[f"{config}.construct"] = _describe(exc)
            continue
        cases = {"self": (x, x, x), "cross": (cq, ck, cv)}
        for case, (args, mask_name) in masked.items():
            if mask_name in inputs:
                cases[case] = (*args, inputs[mask_name])
        for case, args in cases.items():
            try:
                with torch.no_grad():
                    outputs[f"{config}.{case}.out"] = _out(module(*(a.clone() for a in args)))
            except Exception as exc:  # noqa: BLE001
                notes[f"{config}.{case}"] = _describe(exc)
        try:
            module.float().to(device)
            _load(module, inputs, f"{config}.w.")
            xd = x.to(device=device, dtype=torch.float32)
            with torch.no_grad():
                outputs[f"{config}.f32.out"] = _out(module(xd, xd, xd))
        except Exception as exc:  # noqa: BLE001
            notes[f"{config}.f32"] = _describe(exc)
    return outputs, notes
