"""Sandbox side of multi-head-attention-3: decode with the learner's cache, hand back tensors.

The trusted weights go into W_Q, W_K, W_V, W_O (probe_kit.load_linears). The same
sequence is then run whole (one call, no cache), one token at a time after a prompt,
and in chunks after a prompt (``splits.*``: the [start, end) of each call); each run
hands back its outputs side by side, its final cache and the cache's length after every
call. Two more runs test the cache itself: new W_K and W_V weights loaded between the
prompt and the next token (cached keys must stay as they were computed), and two
sequences decoded in turn with their own caches (no state may live in the module).
"""

from __future__ import annotations

import probe_kit as kit
import torch

ENTRY = "CachedMultiHeadAttention"
LAYERS = ("W_Q", "W_K", "W_V", "W_O")
RUNS = ("full", "decode", "chunk")


@kit.probe(ENTRY, kind="module")
def run(probe: kit.Probe, cls: type, phase: str, inputs: kit.Inputs) -> None:
    d_model, num_heads = (int(v) for v in inputs["config"].tolist())

    def load(module: torch.nn.Module, prefix: str = "w.", layers: tuple = LAYERS) -> None:
        kit.load_linears(module, inputs, prefix, layers, entry=ENTRY, bias_required=True)

    with probe.attempt("construct"):
        module = probe.call(cls, d_model, num_heads)
        module.double().eval()
        load(module)
    if "construct" in probe.notes:
        return

    def step(chunk: torch.Tensor, cache: object) -> tuple[torch.Tensor, tuple]:
        args = (chunk.clone(),) if cache is None else (chunk.clone(), cache)
        out, new_cache = kit.pair(probe.call(module, *args), "output", "(keys, values)")
        keys, values = kit.pair(new_cache, "keys", "values")
        if not all(isinstance(t, torch.Tensor) for t in (out, keys, values)):
            raise TypeError("expected tensors: (output, (keys, values))")
        want = (chunk.shape[0], chunk.shape[1], d_model)
        if tuple(out.shape) != want:
            raise ValueError(
                f"for x of shape {tuple(chunk.shape)} the output has shape "
                f"{tuple(out.shape)}; expected {want}"
            )
        return out, (keys, values)

    def decode(name: str, x: torch.Tensor, splits: list[list[int]]) -> None:
        cache, outs, lengths = None, [], []
        for start, end in splits:
            out, cache = step(x[:, start:end], cache)
            outs.append(out)
            lengths.append([cache[0].shape[-2], cache[1].shape[-2]])
        probe.keep(f"{name}.out", torch.cat(outs, dim=1))
        probe.keep(f"{name}.keys", cache[0])
        probe.keep(f"{name}.values", cache[1])
        probe.keep(f"{name}.lengths", torch.tensor(lengths, dtype=torch.float64))

    x = inputs["x"]
    for name in RUNS:
        with probe.attempt(name):
            decode(name, x, inputs[f"splits.{name}"].tolist())

    prompt = int(inputs["reweight.prompt"])
    with probe.attempt("reweight"):
        _, cache = step(x[:, :prompt], None)
        load(module, "w2.", ("W_K", "W_V"))  # past keys were made with the old weights
        out, _ = step(x[:, prompt : prompt + 1], cache)
        probe.keep("reweight.out", out)
    with probe.attempt("reload"):
        load(module)

    prompt = int(inputs["pair.prompt"])
    with probe.attempt("pair"):
        first, second = x[:1], x[1:2]
        _, cache_first = step(first[:, :prompt], None)
        _, cache_second = step(second[:, :prompt], None)
        out_first, _ = step(first[:, prompt : prompt + 1], cache_first)
        out_second, _ = step(second[:, prompt : prompt + 1], cache_second)
        probe.keep("pair.out", torch.cat([out_first, out_second], dim=0))

    with probe.attempt("f32"):
        module.float().to(probe.device)
        load(module)
        xd = x.to(device=probe.device, dtype=torch.float32)
        for name in ("full", "decode"):
            with probe.attempt(f"f32.{name}"):
                decode(f"f32.{name}", xd, inputs[f"splits.{name}"].tolist())
