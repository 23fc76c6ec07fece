"""Sandbox side of gpt-architecture-2: build the learner's GPT, copy weights in, run it.

The trusted weights come as ``w.<parameter name>`` inputs, one per parameter of the
reference model (the tied output head has none of its own). They are copied in by name;
a parameter the interface does not name, a missing or mis-shaped one, is the note
``construct``. A separate ``head.weight`` (an untied head) is filled with the embedding's
values so the other checks still compare numbers, and noted for the tying check.

Sub-probes, each caught on its own: logits at two lengths, ``loss``, the gradient of each
position's logits with respect to the input of ``blocks[0]`` (causality: one small
(seq, seq) table of maxima), the gradient reaching ``tok_emb.weight`` (tying), and
float32 logits on the device.
"""

from __future__ import annotations

import probe_kit as kit
import torch

ENTRY = "GPT"
EMBEDDING, HEAD = "tok_emb.weight", "head.weight"
SHOWN = 8  # parameter names quoted in a note


def _load(model: torch.nn.Module, inputs: kit.Inputs, dtype: torch.dtype) -> str | None:
    """Copy every ``w.NAME`` into the parameter NAME; a problem as one line, else None."""
    if not isinstance(model, torch.nn.Module):
        return f"{ENTRY}(...) made a {type(model).__name__}, not an nn.Module"
    wanted = {key[2:]: value for key, value in inputs.items() if key.startswith("w.")}
    params = dict(model.named_parameters(remove_duplicate=False))
    missing = [name for name in wanted if name not in params]
    if missing:
        have = ", ".join(list(params)[:SHOWN]) + (", ..." if len(params) > SHOWN else "")
        return (
            f"the model has no parameter {', '.join(missing[:3])}"
            + (f" (and {len(missing) - 3} more)" if len(missing) > 3 else "")
            + f"; its parameters are: {have or 'none'}"
        )
    for name, value in wanted.items():
        if tuple(params[name].shape) != tuple(value.shape):
            return f"{name} has shape {tuple(params[name].shape)}; expected {tuple(value.shape)}"
    if HEAD in params and params[HEAD].shape != params[EMBEDDING].shape:
        return (
            f"{HEAD} has shape {tuple(params[HEAD].shape)}; the output head is "
            f"nn.Linear(d_model, vocab_size, bias=False), whose weight has the shape of "
            f"{EMBEDDING}, {tuple(params[EMBEDDING].shape)}"
        )
    extra = [name for name in params if name not in wanted and name != HEAD]
    if extra:
        return f"the model has parameters the interface does not name: {', '.join(extra[:SHOWN])}"
    with torch.no_grad():
        for name, value in wanted.items():
            params[name].copy_(value.to(params[name].device, dtype))
        if HEAD in params and params[HEAD] is not params[EMBEDDING]:
            params[HEAD].copy_(wanted[EMBEDDING].to(params[HEAD].device, dtype))
    return None


def _tying(model: torch.nn.Module) -> str:
    """How the output head relates to the embedding: tied, untied, or sharing storage only."""
    params = dict(model.named_parameters(remove_duplicate=False))
    head, embedding = params.get(HEAD), params.get(EMBEDDING)
    if head is None or embedding is None or head is embedding:
        return "tied"
    return "storage" if head.data_ptr() == embedding.data_ptr() else "untied"


def _first_block(model: torch.nn.Module) -> torch.nn.Module:
    blocks = getattr(model, "blocks", None)
    try:
        return blocks[0]  # type: ignore[index]
    except (TypeError, IndexError, KeyError) as exc:
        raise TypeError(
            "model.blocks[0] is not a module (blocks must be an nn.ModuleList)"
        ) from exc


@kit.probe(ENTRY, kind="module")
def run(probe: kit.Probe, cls: type, phase: str, inputs: kit.Inputs) -> None:
    vocab, max_seq, d_model, num_heads, num_layers = (int(v) for v in inputs["config"].tolist())
    with probe.attempt("construct"):
        model = probe.call(cls, vocab, max_seq, d_model, num_heads, num_layers)
        if isinstance(model, torch.nn.Module):
            # Before .double(): a head tied through .data loses even its shared storage there.
            probe.notes["tying"] = _tying(model)
            model.double().eval()
        problem = _load(model, inputs, torch.float64)
        if problem is not None:
            probe.notes["construct"] = problem
    if "construct" in probe.notes:
        return
    tokens, seed = inputs["tokens"], inputs["grad_seed"]
    seq = tokens.shape[1]

    for case, ids in (("short", tokens), ("full", inputs["tokens_full"])):
        with probe.attempt(case):
            logits, _ = kit.output_and_extra(probe.call(model, ids.clone()))
            probe.keep(f"{case}.logits", logits)

    with probe.attempt("loss"):
        loss = getattr(model, "loss", None)
        if not callable(loss):
            raise AttributeError(f"{ENTRY} has no method loss(tokens)")
        probe.keep("loss", probe.call(loss, tokens.clone()))

    with probe.attempt("causal"):
        captured: list[torch.Tensor] = []

        def grab(module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
            x = args[0] if args else next(iter(kwargs.values()))
            captured.append(x)

        hook = _first_block(model).register_forward_pre_hook(grab, with_kwargs=True)
        try:
            logits, _ = kit.output_and_extra(probe.call(model, tokens.clone(), grad=True))
        finally:
            hook.remove()
        if not captured:
            raise RuntimeError("forward never called blocks[0]")
        x = captured[0]
        if not x.requires_grad:
            raise RuntimeError("the input of blocks[0] does not require grad (is it detached?)")
        # table[t, s]: the largest |d(logits at t) / d(input of blocks[0] at s)|.
        table = torch.zeros(seq, seq, dtype=torch.float64)
        for t in range(seq):
            (grad,) = torch.autograd.grad(
                (logits[:, t] * seed[:, t]).sum(), x, retain_graph=True, allow_unused=True
            )
            if grad is not None:
                table[t] = grad.detach().abs().amax(dim=(0, 2)).to("cpu", torch.float64)
        probe.keep("causal.table", table)

    with probe.attempt("tying"):
        model.zero_grad(set_to_none=True)
        logits, _ = kit.output_and_extra(probe.call(model, tokens.clone(), grad=True))
        (logits * seed).sum().backward()
        grad = dict(model.named_parameters(remove_duplicate=False))[EMBEDDING].grad
        if grad is None:
            raise RuntimeError(f"no gradient reached {EMBEDDING}")
        probe.keep("tying.grad", grad)

    with probe.attempt("f32"):
        model.float().to(probe.device)
        problem = _load(model, inputs, torch.float32)
        if problem is not None:
            raise RuntimeError(problem)
        logits, _ = kit.output_and_extra(probe.call(model, tokens.to(probe.device)))
        probe.keep("f32.short.logits", logits)
