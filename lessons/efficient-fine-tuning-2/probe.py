"""Sandbox side of efficient-fine-tuning-2: build the learner's LoRALinear, load it, run it.

Every LoRALinear is built around an nn.Linear with the trusted base weights, then moved
with ``.to(device, dtype)`` as a user would. The probe reads the learner's own
initialisation (small summaries, not the matrices), then loads trusted ``lora_A`` and
``lora_B`` through the public attributes, so forward, gradients, merge and a few SGD
steps can be recomputed exactly on the trusted side.
"""

from __future__ import annotations

import probe_kit as kit
import torch
from torch import nn

ENTRY = "LoRALinear"
STEPS, LR = 5, 0.1


@kit.probe(ENTRY, kind="module")
def run(probe: kit.Probe, cls: type, phase: str, inputs: kit.Inputs) -> None:
    def build(config: str, device: str = "cpu", dtype: torch.dtype = torch.float64) -> nn.Module:
        r, alpha, has_bias = inputs[f"{config}.config"].tolist()
        weight = inputs[f"{config}.weight"]
        base = nn.Linear(
            weight.shape[1], weight.shape[0], bias=bool(has_bias), device=device, dtype=dtype
        )
        with torch.no_grad():
            base.weight.copy_(weight)
            if base.bias is not None:
                base.bias.copy_(inputs[f"{config}.bias"])
        module = probe.call(cls, base, int(r), float(alpha))
        module.to(device, dtype)
        for name, rows, cols in (
            ("lora_A", int(r), weight.shape[1]),
            ("lora_B", weight.shape[0], int(r)),
        ):
            value = getattr(module, name, None)
            if not isinstance(value, torch.Tensor):
                raise AttributeError(f"{ENTRY} has no attribute {name} (an nn.Parameter)")
            if not isinstance(value, nn.Parameter):
                raise TypeError(
                    f"{name} is a {type(value).__name__}, not an nn.Parameter: wrap it in "
                    "nn.Parameter(...) so module.parameters() (and the optimiser) sees it"
                )
            if tuple(value.shape) != (rows, cols):
                raise ValueError(
                    f"{name} has shape {tuple(value.shape)}; expected ({rows}, {cols})"
                )
        if not isinstance(getattr(module, "base", None), nn.Module):
            raise AttributeError(f"{ENTRY} has no attribute base (the wrapped nn.Linear)")
        if not callable(getattr(module, "merge", None)):
            raise AttributeError(f"{ENTRY} has no method merge()")
        return module

    def load(module: nn.Module, prefix: str) -> None:
        with torch.no_grad():
            module.lora_A.copy_(inputs[f"{prefix}.A"])
            module.lora_B.copy_(inputs[f"{prefix}.B"])

    def forward(module: nn.Module, x: torch.Tensor, grad: bool = False) -> torch.Tensor:
        return probe.call(module, x.to(module.lora_A.device, module.lora_A.dtype), grad=grad)

    def with_grads(module: nn.Module) -> list[str]:
        return [n for n, p in module.named_parameters() if p.grad is not None]

    with probe.attempt("construct"):
        module = build("main")
    if "construct" in probe.notes:
        return
    x = inputs["x"]

    # The learner's own initialisation: summaries only.
    with probe.attempt("init"):
        again = build("main")
        A, B = module.lora_A.detach(), module.lora_B.detach()  # noqa: N806
        probe.outputs["init.A_absmax"] = A.abs().max().reshape(())
        probe.outputs["init.A_spread"] = (A.max() - A.min()).reshape(())
        probe.outputs["init.A_same"] = torch.tensor(torch.equal(A, again.lora_A.detach()))
        probe.outputs["init.B_absmax"] = B.abs().max().reshape(())
        probe.notes["trainable"] = ",".join(
            n for n, p in module.named_parameters() if p.requires_grad
        )
        base = getattr(module, "base", None)
        probe.notes["frozen"] = ",".join(
            f"base.{n}" for n, p in base.named_parameters() if not p.requires_grad
        )
        probe.keep("init.out", forward(module, x))

    with probe.attempt("main"):
        load(module, "main")
        module.zero_grad(set_to_none=True)
        out = forward(module, x, grad=True)
        probe.keep("main.out", out)
        (out * inputs["grad_seed"]).sum().backward()
        probe.notes["grad.params"] = ",".join(with_grads(module))
        for name in ("lora_A", "lora_B"):
            grad = getattr(module, name).grad
            if grad is not None:
                probe.keep(f"grad.{name}", grad)

    with probe.attempt("merge"):
        load(module, "main")
        merged = probe.call(module.merge)
        probe.outputs["merge.is_linear"] = torch.tensor(isinstance(merged, nn.Linear))
        probe.outputs["merge.is_base"] = torch.tensor(merged is module.base)
        if not isinstance(merged, nn.Module):
            raise TypeError(f"merge() returned {type(merged).__name__}, not an nn.Linear")
        probe.keep("merge.weight", merged.weight)
        if getattr(merged, "bias", None) is not None:
            probe.keep("merge.bias", merged.bias)
        probe.keep("merge.out", probe.call(merged, x.to(merged.weight.dtype)))
        probe.keep("merge.after", forward(module, x))

    with probe.attempt("other"):
        other = build("other")
        load(other, "other")
        probe.keep("other.out", forward(other, x))
        probe.keep("other.merge.out", probe.call(probe.call(other.merge), x))

    with probe.attempt("train"):
        trained = build("main")
        load(trained, "train")
        # Plain SGD by hand: torch.optim's first optimiser imports torch._dynamo (about 1 s).
        parameters = [p for p in trained.parameters() if p.requires_grad]
        for _ in range(STEPS):
            loss = (forward(trained, inputs["train.x"], grad=True) - inputs["train.y"]) ** 2
            loss.mean().backward()
            with torch.no_grad():
                for parameter in parameters:
                    if parameter.grad is not None:
                        parameter -= LR * parameter.grad
                        parameter.grad = None
        probe.keep("train.A", trained.lora_A)
        probe.keep("train.B", trained.lora_B)
        probe.keep("train.out", forward(trained, x))
        probe.keep("train.merge.out", probe.call(probe.call(trained.merge), x))

    with probe.attempt("f32"):
        small = build("main", probe.device, torch.float32)
        load(small, "main")
        x32 = x.to(probe.device, torch.float32)
        probe.keep("f32.main.out", probe.call(small, x32))
        probe.keep("f32.merge.out", probe.call(probe.call(small.merge), x32))
