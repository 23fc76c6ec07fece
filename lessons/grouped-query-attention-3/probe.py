"""Sandbox side of grouped-query-attention-3: load trusted weights, run each configuration.

For each configuration (GQA, MQA with one K/V head, plain MHA with as many K/V heads as
query heads) it builds the learner's module, copies the weights in through W_Q, W_K, W_V,
W_O, and returns outputs in float64 on the CPU and float32 on the device; each step is
caught on its own (probe_kit). Masked cases: a 0/1 causal mask, and bool (batch, 1, 1,
seq_k) padding masks on self- and cross-attention, passed as given.
"""

from __future__ import annotations

import probe_kit as kit
import torch

ENTRY = "GroupedQueryAttention"
LAYERS = ("W_Q", "W_K", "W_V", "W_O")
CASES = {  # name: inputs, the last one the mask when there is one
    "self": ("x", "x", "x"),
    "cross": ("cq", "ck", "cv"),
    "causal": ("x", "x", "x", "mask_causal"),
    "pad": ("x", "x", "x", "mask_pad"),
    "padcross": ("cq", "ck", "cv", "mask_padcross"),
}


@kit.probe(ENTRY, kind="module")
def run(probe: kit.Probe, cls: type, phase: str, inputs: kit.Inputs) -> None:
    for config in kit.case_names(inputs, ".config"):
        d_model, num_heads, num_kv = (int(v) for v in inputs[f"{config}.config"].tolist())

        def load(module: torch.nn.Module, config: str = config) -> None:
            kit.load_linears(
                module, inputs, f"{config}.w.", LAYERS, entry=ENTRY, bias_required=True
            )

        with probe.attempt(f"{config}.construct"):
            module = probe.call(cls, d_model, num_heads, num_kv)
            module.double().eval()
            load(module)
        if f"{config}.construct" in probe.notes:
            continue
        for case, names in CASES.items():
            with probe.attempt(f"{config}.{case}"):
                args = [inputs[n].clone() for n in names]
                out, _ = kit.output_and_extra(probe.call(module, *args))
                probe.keep(f"{config}.{case}.out", out)
        with probe.attempt(f"{config}.f32"):
            module.float().to(probe.device)
            load(module)
            xd = inputs["x"].to(device=probe.device, dtype=torch.float32)
            out, _ = kit.output_and_extra(probe.call(module, xd, xd, xd))
            probe.keep(f"{config}.f32.out", out)
