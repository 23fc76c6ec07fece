"""Trusted checks for gpt-architecture-2: a small GPT against reference.py, weights copied in.

The probe copies this module's weights into the learner's model by parameter name (the
names are the interface), so numbers can be compared exactly: logits at 12 tokens and at
``max_seq_len`` = 16, in float64, then float32 on the device. Three properties are judged
on their own, so each mistake gets the message that names it:

- causality: the gradient of the logits at position t with respect to the input of the
  first block at every position s > t must be exactly zero (float64, masked with -inf);
- weight tying: no second (vocab, d_model) parameter, and the gradient reaching
  ``tok_emb.weight`` must hold both the embedding's and the head's part;
- the next-token loss, recomputed from the learner's own logits (so a right loss on a
  wrong model still passes this check and fails only the numbers).

On disagreement ``_forward`` recomputes the model with common mistakes applied (no or an
off-by-one causal mask, post-norm, a residual around the normalised input, no final norm,
a hand-written LayerNorm with the unbiased variance, GELU's tanh form or ReLU, positions
missing or from 1, scaling and head split/merge mistakes) and names the one that matches.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F  # noqa: N812

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "GPT"
VOCAB, MAX_SEQ, D_MODEL, NUM_HEADS, NUM_LAYERS = 64, 16, 32, 4, 2
CONFIG = (VOCAB, MAX_SEQ, D_MODEL, NUM_HEADS, NUM_LAYERS)
D_K = D_MODEL // NUM_HEADS
BATCH, SEQ = 2, 12
LN_EPS = 1e-5
EMBEDDING = "tok_emb.weight"
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "causality",
    "weight_tying",
    "loss",
    "numbers_float32",
)
CALL = f"{ENTRY}({', '.join(str(c) for c in CONFIG)})"
LABELS = {
    "short.logits": f"logits for {SEQ} tokens",
    "full.logits": f"logits for {MAX_SEQ} tokens (max_seq_len)",
}
SHAPES = {"short.logits": (BATCH, SEQ, VOCAB), "full.logits": (BATCH, MAX_SEQ, VOCAB)}
MISTAKES = (
    Mistake(
        "causal_ignored",
        "attention has no causal mask: position t sees the tokens after it; fill the scores "
        "with -inf where key index > query index",
        "causal",
    ),
    Mistake(
        "causal_one_ahead",
        "the causal mask is off by one: position t also sees position t + 1; hide keys where "
        "key index > query index (torch.triu(ones, diagonal=1))",
        "causal",
    ),
    Mistake(
        "causal_excludes_diagonal",
        "the causal mask also hides the diagonal: position t must see itself (keys 0..t); "
        "mask with torch.triu(ones, diagonal=1), not diagonal=0",
        "causal",
    ),
    Mistake(
        "causal_inverted",
        "the causal mask is inverted: position t sees the keys t..seq-1 instead of 0..t "
        "(tril and triu swapped)",
        "causal",
    ),
    Mistake(
        "post_norm",
        "the blocks are post-norm (x = ln(x + sublayer(x))); GPT-2 is pre-norm: "
        "x = x + attn(ln1(x)), then x = x + mlp(ln2(x))",
        "norm",
    ),
    Mistake(
        "residual_normed",
        "the residual adds the normalised input (ln1(x) + attn(ln1(x))); add the block's "
        "input itself: x = x + attn(ln1(x))",
        "norm",
    ),
    Mistake(
        "no_final_norm",
        "the final LayerNorm ln_f is not applied before the output head",
        "final",
    ),
    Mistake(
        "ln_unbiased",
        f"the LayerNorm uses the unbiased variance (x.var(-1) divides by d_model - 1 = "
        f"{D_MODEL - 1}); LayerNorm divides by d_model: x.var(-1, unbiased=False), or use "
        "nn.LayerNorm",
        "ln",
    ),
    Mistake(
        "gelu_tanh",
        "the feed-forward uses GELU's tanh approximation (GPT-2's original); this lesson's "
        "reference uses the exact GELU, nn.GELU() or F.gelu(x)",
        "act",
    ),
    Mistake(
        "relu",
        "the feed-forward uses ReLU; GPT uses GELU: fc2(F.gelu(fc1(x)))",
        "act",
    ),
    Mistake(
        "no_pos",
        "the position embedding is never added: x = tok_emb(tokens) + pos_emb(positions)",
        "pos",
    ),
    Mistake(
        "pos_from_one",
        "positions start at 1; the first token has position 0: torch.arange(seq)",
        "pos",
    ),
    Mistake(
        "no_scale",
        f"attention scores are not scaled: divide q @ k^T by sqrt(d_k) = {math.sqrt(D_K):g}",
        "scale",
    ),
    Mistake(
        "scale_dmodel",
        f"attention scores are divided by sqrt(d_model) = {math.sqrt(D_MODEL):.3g}; use the "
        f"per-head size, sqrt(d_k) = {math.sqrt(D_K):g}",
        "scale",
    ),
    Mistake(
        "split_no_transpose",
        "heads are split with a plain view to (batch, num_heads, seq, d_k), which mixes "
        "positions into heads: .view(batch, seq, num_heads, d_k).transpose(1, 2)",
        "split",
    ),
    Mistake(
        "merge_no_transpose",
        "heads are merged without transposing back: .transpose(1, 2).reshape(batch, seq, d_model)",
        "merge",
    ),
)
SHIFT = "logits[:, :-1] against the targets tokens[:, 1:]"
LOSS_MISTAKES = (
    Mistake(
        "no_shift",
        f"the loss scores the logits at t against the token at t itself: predict the next "
        f"token, {SHIFT}",
        "shift",
    ),
    Mistake(
        "shift_reversed",
        f"the shift goes the wrong way (logits at t + 1 against the token at t): use {SHIFT}",
        "shift",
    ),
    Mistake(
        "rolled",
        f"the targets wrap around (torch.roll): the last position has no next token; use {SHIFT}",
        "shift",
    ),
    Mistake(
        "summed",
        "the loss is summed over positions; take the mean (F.cross_entropy's default)",
        "reduction",
    ),
    Mistake(
        "double_softmax",
        "softmax is applied before F.cross_entropy, which takes raw logits (it applies "
        "log_softmax itself)",
        "input",
    ),
    Mistake(
        "nll_on_logits",
        "F.nll_loss is given raw logits; it expects log-probabilities: use "
        "F.cross_entropy(logits, targets)",
        "input",
    ),
)


def _interface_failed(note: str) -> str:
    return (
        f"could not build {CALL} and copy the reference weights in: {note} (the parameter "
        "names are the interface: tok_emb, pos_emb, blocks.N.ln1, blocks.N.attn.W_Q/W_K/W_V/"
        "W_O, blocks.N.ln2, blocks.N.mlp.fc1/fc2, ln_f, head tied to tok_emb)"
    )


@functools.cache
def _parameter_shapes() -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The reference model's parameters (the tied head counted once), in order."""
    model = reference.GPT(*CONFIG)
    return tuple((name, tuple(p.shape)) for name, p in model.named_parameters())


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    """Token ids, a gradient seed and one float64 weight per reference parameter."""
    randn = judging.normal(seed)
    ids = torch.Generator().manual_seed(seed + 1)
    inputs = {
        "config": torch.tensor(CONFIG, dtype=torch.int64),
        "tokens": torch.randint(VOCAB, (BATCH, SEQ), generator=ids),
        "tokens_full": torch.randint(VOCAB, (BATCH, MAX_SEQ), generator=ids),
        "grad_seed": randn(BATCH, SEQ, VOCAB),
    }
    for name, shape in _parameter_shapes():
        if name == EMBEDDING:
            value = randn(*shape)
        elif name == "pos_emb.weight":
            value = randn(*shape, scale=0.5)
        elif len(shape) == 2:
            value = randn(*shape, scale=shape[1] ** -0.5)
        elif "ln" in name and name.endswith(".weight"):
            value = 1.0 + randn(*shape, scale=0.1)
        else:
            value = randn(*shape, scale=0.1)
        inputs[f"w.{name}"] = value
    return inputs


def _weights(data: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key[2:]: value for key, value in data.items() if key.startswith("w.")}


def _reference_model(data: dict[str, torch.Tensor]) -> torch.nn.Module:
    model = reference.GPT(*CONFIG).double().eval()
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in _weights(data).items():
            params[name].copy_(value)
    return model


def _layer_norm(x: torch.Tensor, w: dict, name: str, mistakes: frozenset[str]) -> torch.Tensor:
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, unbiased="ln_unbiased" in mistakes)
    return (x - mean) / torch.sqrt(var + LN_EPS) * w[f"{name}.weight"] + w[f"{name}.bias"]


def _attention(x: torch.Tensor, w: dict, name: str, mistakes: frozenset[str]) -> torch.Tensor:
    def project(layer: str, y: torch.Tensor) -> torch.Tensor:
        return judging.linear(y, w[f"{name}.{layer}.weight"], w[f"{name}.{layer}.bias"])

    plain = "split_no_transpose" in mistakes
    q, k, v = (
        judging.split_heads(project(layer, x), NUM_HEADS, plain_view=plain)
        for layer in ("W_Q", "W_K", "W_V")
    )
    if "causal_inverted" in mistakes:
        keep = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool).triu()
        heads, _ = judging.attention(q, k, v, keep, mistakes=mistakes, d_model=D_MODEL)
    else:
        heads, _ = judging.attention(q, k, v, mistakes=mistakes, causal=True, d_model=D_MODEL)
    merged = judging.merge_heads(heads, plain_view="merge_no_transpose" in mistakes)
    return project("W_O", merged)


def _mlp(x: torch.Tensor, w: dict, name: str, mistakes: frozenset[str]) -> torch.Tensor:
    hidden = judging.linear(x, w[f"{name}.fc1.weight"], w[f"{name}.fc1.bias"])
    if "relu" in mistakes:
        hidden = torch.relu(hidden)
    else:
        hidden = F.gelu(hidden, approximate="tanh" if "gelu_tanh" in mistakes else "none")
    return judging.linear(hidden, w[f"{name}.fc2.weight"], w[f"{name}.fc2.bias"])


def _forward(
    w: dict, tokens: torch.Tensor, mistakes: frozenset[str], head: torch.Tensor | None = None
) -> torch.Tensor:
    """The GPT forward pass as a function of the weights, with ``mistakes`` applied; ``head``
    stands in for the embedding in the output head (the tying check separates the two)."""
    positions = torch.arange(tokens.shape[1]) + (1 if "pos_from_one" in mistakes else 0)
    x = w[EMBEDDING][tokens]
    if "no_pos" not in mistakes:
        x = x + w["pos_emb.weight"][positions]
    for layer in range(NUM_LAYERS):
        block = f"blocks.{layer}"

        def norm(y: torch.Tensor, which: str, block: str = block) -> torch.Tensor:
            return _layer_norm(y, w, f"{block}.{which}", mistakes)

        if "post_norm" in mistakes:
            x = norm(x + _attention(x, w, f"{block}.attn", mistakes), "ln1")
            x = norm(x + _mlp(x, w, f"{block}.mlp", mistakes), "ln2")
            continue
        h = norm(x, "ln1")
        x = (h if "residual_normed" in mistakes else x) + _attention(
            h, w, f"{block}.attn", mistakes
        )
        h = norm(x, "ln2")
        x = (h if "residual_normed" in mistakes else x) + _mlp(h, w, f"{block}.mlp", mistakes)
    if "no_final_norm" not in mistakes:
        x = _layer_norm(x, w, "ln_f", mistakes)
    return x @ (w[EMBEDDING] if head is None else head).T


def _loss(logits: torch.Tensor, tokens: torch.Tensor, mistakes: frozenset[str]) -> torch.Tensor:
    """Next-token cross-entropy of ``logits`` (batch, seq, vocab), with ``mistakes`` applied."""
    if "no_shift" in mistakes:
        scored, targets = logits, tokens
    elif "shift_reversed" in mistakes:
        scored, targets = logits[:, 1:], tokens[:, :-1]
    elif "rolled" in mistakes:
        scored, targets = logits, tokens.roll(-1, dims=1)
    else:
        scored, targets = logits[:, :-1], tokens[:, 1:]
    scored, targets = scored.reshape(-1, logits.shape[-1]), targets.reshape(-1)
    if "double_softmax" in mistakes:
        scored = torch.softmax(scored, dim=-1)
    reduction = "sum" if "summed" in mistakes else "mean"
    if "nll_on_logits" in mistakes:
        return F.nll_loss(scored, targets, reduction=reduction)
    return F.cross_entropy(scored, targets, reduction=reduction)


@judging.judged(CHECKS, _interface_failed)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    w = _weights(data)
    cases = {"short.logits": data["tokens"], "full.logits": data["tokens_full"]}
    with torch.no_grad():
        model = _reference_model(data)
        expected = {key: model(tokens) for key, tokens in cases.items()}
    actual = got.like(expected)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        found = {}
        for key, tokens in cases.items():
            try:
                found[key] = _forward(w, tokens, mistakes)
            except IndexError:  # positions from 1 run past max_seq_len, as the learner's did
                continue
        return found

    numbers_ok = judging.agree(actual, expected, LABELS)
    # A mask that hides the diagonal leaves row 0 all -inf: NaN, which spreads through the
    # later layers and would match any output; consider it only for outputs with NaN in them.
    finite = all(bool(torch.isfinite(value).all()) for value in actual.values())
    mistakes = [m for m in MISTAKES if not (finite and m.id == "causal_excludes_diagonal")]
    found = None if numbers_ok else judging.diagnose(actual, variant, mistakes)
    causality = _causality(got, found)
    return [
        CheckResult("interface", True, f"{CALL} has every documented parameter"),
        _output_shape(got),
        judging.numbers_check(
            got,
            actual,
            expected,
            LABELS,
            found=found,
            passed=f"float64 logits match the reference for {SEQ} and {MAX_SEQ} tokens",
            advice="no single common mistake explains it: check the pre-norm blocks, the "
            "causal mask, GELU, the final LayerNorm and the position embedding",
        ),
        causality,
        _tying(got, w, data, numbers_ok),
        _loss_check(got, actual, expected, data["tokens"], causal_ok=causality.passed),
        judging.float32_check(
            got,
            expected,
            {"short.logits": LABELS["short.logits"]},
            device,
            numbers_ok=numbers_ok,
            prefix="f32.",
            missing_hint="tensors made inside forward (positions, masks) must follow the "
            "input: device=tokens.device",
        ),
    ]


def _output_shape(got: Outputs) -> CheckResult:
    for key, shape in SHAPES.items():
        if got.get(key, shape) is None:
            return CheckResult(
                "output_shape",
                False,
                f"forward(tokens) on {judging.describe_shape(shape[:2])} token ids: the "
                f"{LABELS[key]} {got.why(key)} (batch, seq, vocab_size)",
            )
    return CheckResult("output_shape", True, "forward returns (batch, seq, vocab_size) logits")


def _causality(got: Outputs, found: tuple[Mistake, ...] | None) -> CheckResult:
    name = "causality"
    table = got.get("causal.table", (SEQ, SEQ))
    if table is None:
        return CheckResult(
            name,
            False,
            f"the gradient of the logits with respect to the input of blocks[0] could not be "
            f"taken: it {got.why('causal.table')}",
        )
    future = torch.ones(SEQ, SEQ, dtype=torch.bool).triu(1)
    leaks = (table > judging.ZERO_GRAD_ATOL) & future
    if not bool(torch.isfinite(table).all()):
        return CheckResult(
            name, False, "the gradient of the logits holds NaN or inf; see numbers_float64"
        )
    if bool(leaks.any()):
        t, s = (int(i) for i in leaks.nonzero()[0])
        advice = judging.explain(m for m in found or () if m.group == "causal") or (
            "every attention layer must hide the keys after each query (-inf before the "
            "softmax), and nothing else may mix positions"
        )
        return CheckResult(
            name,
            False,
            f"the logits at position {t} depend on the token at position {s} (|gradient| "
            f"{float(table[t, s]):.3g}, must be 0): {advice}",
        )
    return CheckResult(
        name,
        True,
        "the logits at every position t have zero gradient with respect to positions after t",
    )


def _tying(
    got: Outputs, w: dict[str, torch.Tensor], data: dict[str, torch.Tensor], numbers_ok: bool
) -> CheckResult:
    name = "weight_tying"
    how = got.note("tying")
    if how == "untied":
        return CheckResult(
            name,
            False,
            "head.weight is a second (vocab_size, d_model) parameter: tie the output head to "
            "the embedding with self.head.weight = self.tok_emb.weight (one matrix; the checks "
            "gave both the same values, so only this check can tell)",
        )
    if how == "storage":
        return CheckResult(
            name,
            False,
            "head.weight shares tok_emb.weight's storage (through .data) but is a Parameter of "
            "its own, so each gets only its own part of the gradient (and .double() or .to() "
            "separates them): assign the Parameter itself, self.head.weight = self.tok_emb.weight",
        )
    grad = got.get("tying.grad", (VOCAB, D_MODEL))
    if grad is None:
        return CheckResult(name, False, f"the gradient of {EMBEDDING} {got.why('tying.grad')}")
    lookup, head = _embedding_gradients(w, data)
    if judging.compare(grad, lookup + head, judging.FLOAT64).ok:
        return CheckResult(
            name,
            True,
            "the head is tok_emb.weight: its gradient holds the embedding's and the head's part",
        )
    if not numbers_ok:
        return judging.skipped(
            name, "the logits differ, so the gradients cannot be compared (see numbers_float64)"
        )
    if judging.compare(grad, lookup, judging.DIAGNOSIS).ok:
        return CheckResult(
            name,
            False,
            f"{EMBEDDING} gets only the embedding lookup's gradient: the output head uses a "
            "detached copy of it (.detach(), .data or .clone()); use the parameter itself",
        )
    if judging.compare(grad, head, judging.DIAGNOSIS).ok:
        return CheckResult(
            name,
            False,
            f"{EMBEDDING} gets only the output head's gradient: the embedding lookup is "
            "detached; use self.tok_emb(tokens)",
        )
    return CheckResult(
        name,
        False,
        f"the gradient of {EMBEDDING} differs from the tied reference "
        f"({judging.compare(grad, lookup + head, judging.FLOAT64).describe()})",
    )


def _embedding_gradients(
    w: dict[str, torch.Tensor], data: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient of (logits * grad_seed).sum() through the embedding lookup and the head."""
    lookup = w[EMBEDDING].clone().requires_grad_()
    head = w[EMBEDDING].clone().requires_grad_()
    logits = _forward({**w, EMBEDDING: lookup}, data["tokens"], frozenset(), head=head)
    grads = torch.autograd.grad((logits * data["grad_seed"]).sum(), (lookup, head))
    return grads[0], grads[1]


def _loss_check(
    got: Outputs,
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    tokens: torch.Tensor,
    *,
    causal_ok: bool,
) -> CheckResult:
    name = "loss"
    loss = got.get("loss", ())
    if loss is None:
        why = got.why("loss")
        if "has shape" in why:
            return CheckResult(
                name,
                False,
                f"loss(tokens) {why}: return one number, the mean cross-entropy over every "
                "predicted position",
            )
        return CheckResult(name, False, f"loss(tokens) {why}")
    own = "short.logits" in actual
    logits = actual["short.logits"] if own else expected["short.logits"]
    want = _loss(logits, tokens, frozenset())
    if judging.compare(loss, want, judging.FLOAT64).ok:
        return CheckResult(
            name,
            True,
            "loss(tokens) is the mean cross-entropy of the logits at t against the token at "
            "t + 1" + ("" if own else " (the reference's logits)"),
        )
    if not bool(torch.isfinite(want)):
        return CheckResult(name, False, "the model's logits hold NaN or inf; see numbers_float64")
    found = judging.diagnose(
        {"loss": loss}, lambda m: {"loss": _loss(logits, tokens, m)}, LOSS_MISTAKES
    )
    detail = f"got {float(loss):.6g}, expected {float(want):.6g}"
    if found:
        return CheckResult(name, False, f"{judging.explain(found)} ({detail})")
    if not causal_ok:
        return CheckResult(
            name,
            False,
            f"loss(tokens) differs from the cross-entropy of the model's logits ({detail}); "
            "the model is not causal, so its logits depend on what follows: fix causality first",
        )
    return CheckResult(
        name,
        False,
        f"loss(tokens) differs from the mean next-token cross-entropy of the model's own "
        f"logits ({detail}): F.cross_entropy over {SHIFT}",
    )
