"""Sandbox side of bert-architecture-2: call the learner's mask_tokens with seeded generators.

Calls (each caught on its own): "main" with the default mlm_probability, "again" with a
generator seeded as main's (the global RNG reseeded in between, so code that ignores the
generator shows), "other" with another seed, and "p30" with mlm_probability=0.3. Main's
inputs and labels come back as int16 (ids below 1000 and -100 fit; anything else is a
note), with their dtypes as notes; the other calls send what the judge needs only:
whether they equal main, and p30's chosen positions. The ids are checked for in-place
changes against a copy.
"""

from __future__ import annotations

from collections.abc import Callable

import probe_kit as kit
import torch

ENTRY = "mask_tokens"
INT16 = torch.iinfo(torch.int16)


def _small(name: str, value: torch.Tensor) -> torch.Tensor:
    """Integer ids as int16 for the trip back; out-of-range values raise, as a note."""
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name} is {value.dtype}; token ids are integers (torch.long)")
    low, high = int(value.min()), int(value.max())
    if low < INT16.min or high > INT16.max:
        raise ValueError(f"{name} holds ids from {low} to {high}, far outside the vocabulary")
    return value.to(torch.int16)


@kit.probe(ENTRY)
def run(probe: kit.Probe, fn: Callable, phase: str, inputs: kit.Inputs) -> None:
    mask_id, vocab = (int(v) for v in inputs["config"].tolist())
    seeds = [int(s) for s in inputs["seeds"].tolist()]
    ids = inputs["ids"].to(probe.device)
    special = inputs["special"].to(probe.device)

    def call(seed: int, global_seed: int, **kwargs: float) -> tuple[torch.Tensor, torch.Tensor]:
        torch.manual_seed(global_seed)
        generator = torch.Generator(device=probe.device).manual_seed(seed)
        result = probe.call(fn, ids, mask_id, vocab, special, generator, **kwargs)
        out, labels = kit.pair(result, "inputs", "labels")
        for name, value in (("inputs", out), ("labels", labels)):
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"{name} is {type(value).__name__}, not a tensor")
            if tuple(value.shape) != tuple(ids.shape):
                raise ValueError(
                    f"{name} has shape {tuple(value.shape)}; expected {tuple(ids.shape)}"
                )
        return out, labels

    original = ids.clone()
    main = None
    with probe.attempt("main"):
        main = call(seeds[0], seeds[3])
        probe.notes["main.dtype"] = f"{main[0].dtype},{main[1].dtype}"
        probe.keep("main.unchanged", torch.tensor(torch.equal(ids, original)))
        probe.keep("main.inputs", _small("inputs", main[0]))
        probe.keep("main.labels", _small("labels", main[1]))
    ids.copy_(original)
    if main is None:
        return
    with probe.attempt("again"):
        again = call(seeds[0], seeds[4])
        probe.keep("again.same", torch.tensor(all(map(torch.equal, again, main))))
    ids.copy_(original)
    with probe.attempt("other"):
        other = call(seeds[1], seeds[3])
        probe.keep("other.same", torch.tensor(all(map(torch.equal, other, main))))
    ids.copy_(original)
    with probe.attempt("p30"):
        _, labels = call(seeds[2], seeds[3], mlm_probability=0.3)
        probe.keep("p30.chosen", labels != -100)
