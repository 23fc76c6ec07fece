"""Sandbox side of transformer-2: load trusted weights into the learner's block, run it.

The block is built with dropout 0.1 and put in eval mode; the trusted weights go into
ln1, ln2 (LayerNorm weight and bias), attn.W_Q/W_K/W_V/W_O and ff1, ff2 through their
public attributes. Runs: plain, with a 0/1 causal mask, with a bool padding mask, the
plain call again (dropout must be off in eval mode), the block with attn.W_O and ff2
zeroed (each sub-layer then adds 0 to the residual stream), a backward pass for the
gradients of every loaded parameter, and float32 on the device.
"""

from __future__ import annotations

import probe_kit as kit
import torch

ENTRY = "TransformerBlock"
ATTENTION = ("W_Q", "W_K", "W_V", "W_O")
LAYERS = ("ln1", "ln2", "ff1", "ff2")


def _attention(module: torch.nn.Module) -> torch.nn.Module:
    attn = getattr(module, "attn", None)
    if not isinstance(attn, torch.nn.Module):
        raise AttributeError(
            f"{ENTRY} has no attribute attn (a module with W_Q, W_K, W_V, W_O as nn.Linear)"
        )
    return attn


def _parameters(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    attn = _attention(module)
    found = {}
    for owner, prefix, names in ((module, "", LAYERS), (attn, "attn.", ATTENTION)):
        for name in names:
            for kind in ("weight", "bias"):
                found[f"{prefix}{name}.{kind}"] = getattr(getattr(owner, name), kind)
    return found


@kit.probe(ENTRY, kind="module")
def run(probe: kit.Probe, cls: type, phase: str, inputs: kit.Inputs) -> None:
    d_model, num_heads, d_ff = (int(v) for v in inputs["config"].tolist())

    def load(module: torch.nn.Module) -> None:
        for norm in ("ln1", "ln2"):
            if not isinstance(getattr(module, norm, None), torch.nn.Module):
                raise AttributeError(f"{ENTRY} has no attribute {norm} (an nn.LayerNorm(d_model))")
        kit.load_linears(module, inputs, "w.", LAYERS, entry=ENTRY, bias_required=True)
        attn = _attention(module)
        kit.load_linears(
            attn, inputs, "w.attn.", ATTENTION, entry=f"{ENTRY}.attn", bias_required=True
        )

    with probe.attempt("construct"):
        module = probe.call(cls, d_model, num_heads, d_ff, dropout=0.1)
        module.double().eval()
        load(module)
    if "construct" in probe.notes:
        return

    def forward(key: str, *args: torch.Tensor) -> None:
        with probe.attempt(key):
            probe.keep(f"{key}.out", probe.call(module, *(a.clone() for a in args)))

    x = inputs["x"]
    forward("plain", x)
    forward("causal", x, inputs["mask_causal"])
    forward("pad", x, inputs["mask_pad"])
    forward("again", x)

    with probe.attempt("zeroed"):
        with torch.no_grad():
            for layer in (_attention(module).W_O, module.ff2):
                layer.weight.zero_()
                layer.bias.zero_()
        forward("zeroed", x)
    with probe.attempt("reload"):
        load(module)

    with probe.attempt("grad"):
        module.zero_grad(set_to_none=True)
        out = probe.call(module, x.clone(), grad=True)
        (out * inputs["grad_seed"]).sum().backward()
        unused = [n for n, p in module.named_parameters() if p.requires_grad and p.grad is None]
        if unused:
            probe.notes["grad.unused"] = ",".join(unused)
        for name, param in _parameters(module).items():
            if isinstance(param, torch.Tensor) and param.grad is not None:
                probe.keep(f"grad.{name}", param.grad)

    with probe.attempt("f32"):
        module.float().to(probe.device)
        load(module)
        forward("f32.plain", x.to(device=probe.device, dtype=torch.float32))
