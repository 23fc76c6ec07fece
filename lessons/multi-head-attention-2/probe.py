"""Sandbox side of multi-head-attention-2: drive the learner's module, hand back tensors.

It copies the trusted weights into W_Q, W_K, W_V, W_O through the public interface
(probe_kit.load_linears), runs a fixed set of sub-probes (each caught on its own so one
failure hides nothing else) and returns raw outputs; all judging happens on the trusted
side. The lesson allows PyTorch's fused attention inside forward, so nothing is forbidden.
"""

from __future__ import annotations

import probe_kit as kit
import torch

ENTRY = "SimpleMultiHeadAttention"
LAYERS = ("W_Q", "W_K", "W_V", "W_O")


@kit.probe(ENTRY, kind="module")
def run(probe: kit.Probe, cls: type, phase: str, inputs: kit.Inputs) -> None:
    d_model, num_heads, small_d, small_heads = (int(v) for v in inputs["config"].tolist())

    def load(module: torch.nn.Module, prefix: str = "w.") -> list[str]:
        return kit.load_linears(module, inputs, prefix, LAYERS, entry=ENTRY, bias_required=False)

    with probe.attempt("construct"):
        module = probe.call(cls, d_model, num_heads)
        module.double().eval()
        no_bias = load(module)
    if "construct" in probe.notes:
        return
    if no_bias:
        probe.notes["no_bias"] = ",".join(no_bias)
    # Read the weights back (a layer recreated on every access would drop the copy).
    # A flag, not the d_model x d_model tensor: the learner's process could fake either.
    for name in LAYERS:
        weight = getattr(module, name).weight.detach().to("cpu")
        same = torch.equal(weight, inputs[f"w.{name}.weight"])
        probe.outputs[f"iface.{name}.weight_equal"] = torch.tensor(same)

    def forward(prefix: str, *args: torch.Tensor) -> None:
        out, weights = kit.output_and_extra(probe.call(module, *(a.clone() for a in args)))
        probe.keep(f"{prefix}.out", out)
        if weights is not None:
            probe.keep(f"{prefix}.weights", weights)

    x, cq, ck, cv = inputs["x"], inputs["cq"], inputs["ck"], inputs["cv"]
    for key, args in (
        ("self", (x, x, x)),
        ("cross", (cq, ck, cv)),
        ("causal", (x, x, x, inputs["mask_causal"])),
        ("pad", (cq, ck, cv, inputs["mask_pad"])),
        *((f"b{i}", (x[i : i + 1],) * 3) for i in range(x.shape[0])),
    ):
        with probe.attempt(key):
            forward(key, *args)

    with probe.attempt("grad"):
        module.zero_grad(set_to_none=True)
        out, _ = kit.output_and_extra(
            probe.call(module, x.clone(), x.clone(), x.clone(), grad=True)
        )
        (out * inputs["grad_seed"]).sum().backward()
        unused = [n for n, p in module.named_parameters() if p.requires_grad and p.grad is None]
        if unused:
            probe.notes["grad.unused"] = ",".join(unused)
        for name in LAYERS:
            for kind in ("weight", "bias"):
                param = getattr(getattr(module, name), kind, None)
                if isinstance(param, torch.Tensor) and param.grad is not None:
                    probe.keep(f"grad.{name}.{kind}", param.grad)

    d_k = d_model // num_heads
    for head in (0, num_heads - 1):
        with probe.attempt(f"indep.h{head}"):
            # W_O = identity: head `head`'s slice of the output must depend on its rows only.
            load(module)
            with torch.no_grad():
                module.W_O.weight.copy_(torch.eye(d_model, dtype=torch.float64))
                if isinstance(module.W_O.bias, torch.Tensor):
                    module.W_O.bias.zero_()
            module.zero_grad(set_to_none=True)
            out, _ = kit.output_and_extra(
                probe.call(module, x.clone(), x.clone(), x.clone(), grad=True)
            )
            part = slice(head * d_k, (head + 1) * d_k)
            (out[..., part] * inputs["grad_seed"][..., part]).sum().backward()
            for name in ("W_Q", "W_K", "W_V"):
                grad = getattr(module, name).weight.grad
                if grad is None:
                    grad = torch.zeros(d_model, d_model, dtype=torch.float64)
                # Only what the judge reads: each head's largest |gradient| in this layer's rows.
                per_head = grad.abs().reshape(num_heads, d_k, d_model).amax(dim=(1, 2))
                probe.keep(f"indep.h{head}.{name}.head_max", per_head)
    with probe.attempt("reload"):
        load(module)

    with probe.attempt("small"):
        other = probe.call(cls, small_d, small_heads)
        other.double().eval()
        load(other, "small.w.")
        sx = inputs["small.x"]
        out, _ = kit.output_and_extra(probe.call(other, sx.clone(), sx.clone(), sx.clone()))
        probe.keep("small.out", out)

    with probe.attempt("f32"):
        module.float().to(probe.device)
        load(module)
        on = {k: inputs[k].to(probe.device, torch.float32) for k in ("x", "cq", "ck", "cv")}
        big = inputs["x_large"].to(probe.device, torch.float32)
        xd = on["x"]
        for key, args in (
            ("f32.self", (xd, xd, xd)),
            ("f32.again", (xd, xd, xd)),
            ("f32.cross", (on["cq"], on["ck"], on["cv"])),
            ("f32.large", (big, big, big)),
        ):
            with probe.attempt(key):
                forward(key, *args)
