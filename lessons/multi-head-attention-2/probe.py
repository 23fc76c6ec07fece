"""Sandbox side of multi-head-attention-2: drive the learner's module, hand back tensors.

Runs beside the learner's code with torch and the standard library only. It
copies the trusted weights into W_Q, W_K, W_V, W_O through the public interface,
runs a fixed set of sub-probes (each caught on its own so one failure hides
nothing else) and returns raw outputs; all judging happens on the trusted side.
"""

from __future__ import annotations

import types
from collections.abc import Callable

import torch

ENTRY = "SimpleMultiHeadAttention"
LAYERS = ("W_Q", "W_K", "W_V", "W_O")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _load(module: torch.nn.Module, inputs: dict[str, torch.Tensor], prefix: str) -> list[str]:
    """Copy trusted weights into the learner's layers; return the layers without a bias."""
    no_bias = []
    with torch.no_grad():
        for name in LAYERS:
            layer = getattr(module, name, None)
            if layer is None:
                raise AttributeError(f"{ENTRY} has no attribute {name}")
            weight = getattr(layer, "weight", None)
            if not isinstance(weight, torch.Tensor):
                raise TypeError(f"{name} is {type(layer).__name__}, which has no .weight tensor")
            expected = inputs[f"{prefix}{name}.weight"]
            if tuple(weight.shape) != tuple(expected.shape):
                raise ValueError(
                    f"{name}.weight has shape {tuple(weight.shape)}; "
                    f"nn.Linear(d_model, d_model) has {tuple(expected.shape)}"
                )
            weight.copy_(expected)
            bias = getattr(layer, "bias", None)
            if isinstance(bias, torch.Tensor):
                bias.copy_(inputs[f"{prefix}{name}.bias"])
            else:
                no_bias.append(name)
    return no_bias


def _split(result: object) -> tuple[object, object]:
    if isinstance(result, (tuple, list)):
        return (result[0] if result else None), (result[1] if len(result) > 1 else None)
    return result, None


def _keep(outputs: dict[str, torch.Tensor], name: str, value: object) -> None:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"forward returned {type(value).__name__} where a tensor was expected")
    outputs[name] = value.detach().to("cpu").contiguous()


def run(
    submission: types.ModuleType, phase: str, inputs: dict[str, torch.Tensor], device: str
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    outputs: dict[str, torch.Tensor] = {}
    notes: dict[str, str] = {}
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    d_model, num_heads, small_d, small_heads = (int(v) for v in inputs["config"].tolist())
    cls = getattr(submission, ENTRY, None)
    if cls is None:
        notes["construct"] = f"the file defines no {ENTRY}"
        return outputs, notes
    try:
        module = cls(d_model, num_heads)
        module.double().eval()
        no_bias = _load(module, inputs, "w.")
    except Exception as exc:  # noqa: BLE001 - any learner error becomes a note
        notes["construct"] = _describe(exc)
        return outputs, notes
    if no_bias:
        notes["no_bias"] = ",".join(no_bias)
    # Read the weights back (a layer recreated on every access would drop the copy).
    # A flag, not the d_model x d_model tensor: the learner's process could fake either.
    for name in LAYERS:
        weight = getattr(module, name).weight.detach().to("cpu")
        same = torch.equal(weight, inputs[f"w.{name}.weight"])
        outputs[f"iface.{name}.weight_equal"] = torch.tensor(same)

    def attempt(key: str, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001
            notes[key] = _describe(exc)

    def forward(prefix: str, *args: torch.Tensor) -> None:
        with torch.no_grad():
            out, weights = _split(module(*(a.clone() for a in args)))
        _keep(outputs, f"{prefix}.out", out)
        if weights is not None:
            _keep(outputs, f"{prefix}.weights", weights)

    x, cq, ck, cv = inputs["x"], inputs["cq"], inputs["ck"], inputs["cv"]
    attempt("self", lambda: forward("self", x, x, x))
    attempt("cross", lambda: forward("cross", cq, ck, cv))
    attempt("causal", lambda: forward("causal", x, x, x, inputs["mask_causal"]))
    attempt("pad", lambda: forward("pad", cq, ck, cv, inputs["mask_pad"]))
    for i in range(x.shape[0]):
        row = x[i : i + 1]
        attempt(f"b{i}", lambda row=row, i=i: forward(f"b{i}", row, row, row))

    def gradients() -> None:
        module.zero_grad(set_to_none=True)
        out, _ = _split(module(x.clone(), x.clone(), x.clone()))
        (out * inputs["grad_seed"]).sum().backward()
        unused = [n for n, p in module.named_parameters() if p.requires_grad and p.grad is None]
        if unused:
            notes["grad.unused"] = ",".join(unused)
        for name in LAYERS:
            for kind in ("weight", "bias"):
                param = getattr(getattr(module, name), kind, None)
                if isinstance(param, torch.Tensor) and param.grad is not None:
                    _keep(outputs, f"grad.{name}.{kind}", param.grad)

    attempt("grad", gradients)

    def independence(head: int) -> None:
        _load(module, inputs, "w.")
        with torch.no_grad():
            module.W_O.weight.copy_(torch.eye(d_model, dtype=torch.float64))
            if isinstance(module.W_O.bias, torch.Tensor):
                module.W_O.bias.zero_()
        module.zero_grad(set_to_none=True)
        out, _ = _split(module(x.clone(), x.clone(), x.clone()))
        d_k = d_model // num_heads
        part = slice(head * d_k, (head + 1) * d_k)
        (out[..., part] * inputs["grad_seed"][..., part]).sum().backward()
        for name in ("W_Q", "W_K", "W_V"):
            grad = getattr(module, name).weight.grad
            if grad is None:
                grad = torch.zeros(d_model, d_model, dtype=torch.float64)
            # Only what the judge reads: each head's largest |gradient| in this layer's rows.
            per_head = grad.abs().reshape(num_heads, d_k, d_model).amax(dim=(1, 2))
            _keep(outputs, f"indep.h{head}.{name}.head_max", per_head)

    for head in (0, num_heads - 1):
        attempt(f"indep.h{head}", lambda head=head: independence(head))
    attempt("reload", lambda: _load(module, inputs, "w."))

    def small() -> None:
        other = cls(small_d, small_heads)
        other.double().eval()
        _load(other, inputs, "small.w.")
        sx = inputs["small.x"]
        with torch.no_grad():
            out, _ = _split(other(sx.clone(), sx.clone(), sx.clone()))
        _keep(outputs, "small.out", out)

    attempt("small", small)

    def single_precision() -> None:
        module.float().to(device)
        _load(module, inputs, "w.")
        on = {k: inputs[k].to(device=device, dtype=torch.float32) for k in ("x", "cq", "ck", "cv")}
        big = inputs["x_large"].to(device=device, dtype=torch.float32)
        xd = on["x"]
        attempt("f32.self", lambda: forward("f32.self", xd, xd, xd))
        attempt("f32.again", lambda: forward("f32.again", xd, xd, xd))
        attempt("f32.cross", lambda: forward("f32.cross", on["cq"], on["ck"], on["cv"]))
        attempt("f32.large", lambda: forward("f32.large", big, big, big))

    attempt("f32", single_precision)
    return outputs, notes
