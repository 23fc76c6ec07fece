"""Trusted checks for multi-head-attention-2: compare the learner's module with reference.py.

Every number the learner's module produced is recomputed here with the
reference; when they disagree, ``_variant`` recomputes it with common mistakes
applied (the toolkit's ``attention`` for the per-head maths, plus projections,
head split and merge) and the matching mistake is named. Sizes: d_model 256 with
4 heads gives d_k = 64, so "divide by sqrt(d_k) = 8" is the advice a learner reads,
while the float64 weights crossing the sandbox stay small (0.5 MiB a matrix).
"""

from __future__ import annotations

import math

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "SimpleMultiHeadAttention"
LAYERS = ("W_Q", "W_K", "W_V", "W_O")
D_MODEL, NUM_HEADS = 256, 4
D_K = D_MODEL // NUM_HEADS
SMALL_D, SMALL_HEADS = 48, 4
BATCH, SEQ, SEQ_Q, SEQ_K = 2, 6, 5, 7
LARGE_SCALE = 30.0
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "attention_weights",
    "masking",
    "head_independence",
    "gradients",
    "numbers_float32",
    "determinism",
    "batch_independence",
    "finite_large_inputs",
    "other_sizes",
)
MASKS = {
    "causal.out": f"a 0/1 int64 causal mask of shape {judging.describe_shape((SEQ, SEQ))}",
    "pad.out": f"a bool padding mask of shape {judging.describe_shape((BATCH, 1, 1, SEQ_K))}",
}
SQRT_DK = math.sqrt(D_K)
MISTAKES = (
    Mistake(
        "no_scale",
        f"scores look unscaled: divide q @ k^T by sqrt(d_k) = {SQRT_DK:g} before the softmax",
        "scale",
    ),
    Mistake(
        "scale_dk",
        f"scores are divided by d_k = {D_K}; divide by sqrt(d_k) = {SQRT_DK:g} instead",
        "scale",
    ),
    Mistake(
        "scale_dmodel",
        f"scores are divided by sqrt(d_model) = {math.sqrt(D_MODEL):.3g}; the scale uses the "
        f"per-head size, sqrt(d_k) = {SQRT_DK:g}",
        "scale",
    ),
    Mistake(
        "softmax_queries",
        "the softmax runs over the query axis (dim=-2); each query's weights must sum to 1 "
        "over the keys: softmax(scores, dim=-1)",
        "softmax",
    ),
    Mistake(
        "softmax_heads",
        "the softmax runs over the heads axis (dim=1); it must run over the keys (dim=-1)",
        "softmax",
    ),
    Mistake(
        "softmax_batch",
        "the softmax runs over the batch axis (dim=0); it must run over the keys (dim=-1)",
        "softmax",
    ),
    Mistake(
        "kv_swapped",
        "keys and values are swapped: the scores must use the keys (q @ k^T) and the weighted "
        "sum the values (weights @ v)",
        "kv",
    ),
    Mistake(
        "kv_inputs_swapped",
        "W_K is applied to V and W_V to K: project keys with W_K(K) and values with W_V(V)",
        "kv",
    ),
    Mistake(
        "split_no_transpose",
        "heads are split with a plain view/reshape to (batch, num_heads, seq, d_k), which "
        "mixes positions into heads: use .view(batch, seq, num_heads, d_k).transpose(1, 2)",
        "split",
    ),
    Mistake(
        "merge_no_transpose",
        "heads are merged without transposing back: (batch, num_heads, seq, d_k) needs "
        ".transpose(1, 2) before .reshape(batch, seq, d_model)",
        "merge",
    ),
    Mistake(
        "no_w_o",
        "the output projection W_O is never applied to the concatenated heads",
        "w_o",
    ),
    Mistake(
        "no_bias",
        "the projections have no bias: use nn.Linear(d_model, d_model), whose bias is on "
        "by default",
        "bias",
    ),
    Mistake(
        "residual",
        "the output includes a residual connection (output + Q); the residual belongs to "
        "the transformer block, not to attention",
        "residual",
    ),
    *judging.mask_mistakes(),  # inverted, ignored, zero fill, additive, after softmax
)


def _interface_failed(construct: str) -> str:
    hint = ""
    if "has no attribute W_" in construct or "has no .weight" in construct:
        hint = "; in __init__ define self.W_Q = nn.Linear(d_model, d_model), and so on"
    return (
        f"could not build {ENTRY}({D_MODEL}, {NUM_HEADS}) and load its W_Q, W_K, W_V, W_O: "
        f"{construct}{hint}"
    )


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    """Random inputs, masks and weights (float64); the probe casts for the float32 runs."""
    randn = judging.normal(seed)
    inputs: dict[str, torch.Tensor] = {
        "config": torch.tensor([D_MODEL, NUM_HEADS, SMALL_D, SMALL_HEADS], dtype=torch.int64),
        "x": randn(BATCH, SEQ, D_MODEL),
        "cq": randn(BATCH, SEQ_Q, D_MODEL),
        "ck": randn(BATCH, SEQ_K, D_MODEL),
        "cv": randn(BATCH, SEQ_K, D_MODEL),
        "grad_seed": randn(BATCH, SEQ, D_MODEL),
        "small.x": randn(BATCH, SEQ_Q, SMALL_D),
        # 0/1 integers for the causal mask, bool for padding: both forms must work.
        "mask_causal": torch.tril(torch.ones(SEQ, SEQ, dtype=torch.int64)),
        "mask_pad": judging.padding_mask(SEQ_K, slice(-2, None), [0, 4, 5, 6]),
    }
    inputs["x_large"] = inputs["x"] * LARGE_SCALE
    for prefix, d in (("w.", D_MODEL), ("small.w.", SMALL_D)):
        for name in LAYERS:
            inputs[f"{prefix}{name}.weight"] = randn(d, d, scale=d**-0.5)
            inputs[f"{prefix}{name}.bias"] = randn(d, scale=0.1)
    return inputs


def _reference_module(inputs: dict[str, torch.Tensor], prefix: str, d: int, h: int):
    module = reference.SimpleMultiHeadAttention(d, h).double().eval()
    return judging.copy_linears(module, inputs, prefix, LAYERS)


def _variant(
    inputs: dict[str, torch.Tensor],
    mistakes: frozenset[str],
    Q: torch.Tensor,  # noqa: N803
    K: torch.Tensor,  # noqa: N803
    V: torch.Tensor,  # noqa: N803
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head attention as a function, with the named mistakes applied."""

    def project(name: str, x: torch.Tensor) -> torch.Tensor:
        bias = None if "no_bias" in mistakes else inputs[f"w.{name}.bias"]
        return judging.linear(x, inputs[f"w.{name}.weight"], bias)

    if "kv_inputs_swapped" in mistakes:
        K, V = V, K  # noqa: N806
    plain = "split_no_transpose" in mistakes
    q, k, v = (
        judging.split_heads(project(name, x), NUM_HEADS, plain_view=plain)
        for name, x in (("W_Q", Q), ("W_K", K), ("W_V", V))
    )
    heads, weights = judging.attention(q, k, v, mask, mistakes=mistakes, d_model=Q.shape[-1])
    merged = judging.merge_heads(heads, plain_view="merge_no_transpose" in mistakes)
    out = merged if "no_w_o" in mistakes else project("W_O", merged)
    return (out + Q if "residual" in mistakes else out), weights


def _cases(inputs: dict[str, torch.Tensor]) -> dict[str, tuple[torch.Tensor, ...]]:
    x, cq, ck, cv = inputs["x"], inputs["cq"], inputs["ck"], inputs["cv"]
    return {
        "self": (x, x, x),
        "cross": (cq, ck, cv),
        "causal": (x, x, x, inputs["mask_causal"]),
        "pad": (cq, ck, cv, inputs["mask_pad"]),
    }


@judging.judged(CHECKS, _interface_failed)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    ref = _reference_module(data, "w.", D_MODEL, NUM_HEADS)
    cases = _cases(data)
    expected: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for case, args in cases.items():
            expected[f"{case}.out"], expected[f"{case}.weights"] = ref(*args)
    actual = got.like(expected)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        found: dict[str, torch.Tensor] = {}
        for case, args in cases.items():
            found[f"{case}.out"], found[f"{case}.weights"] = _variant(data, mistakes, *args)
        return found

    labels = {"self.out": "self-attention", "cross.out": "cross-attention"}
    main_ok, mask_ok = (
        judging.agree(actual, expected, labels),
        judging.agree(actual, expected, MASKS),
    )
    weights_ok = judging.agree(actual, expected, [k for k in actual if k.endswith("weights")])
    diagnosis = None
    if not (main_ok and mask_ok and weights_ok):
        diagnosis = judging.diagnose(actual, variant, MISTAKES)
    main_found = tuple(m for m in diagnosis or () if m.group != "mask")
    mask_found = tuple(m for m in diagnosis or () if m.group == "mask")
    return [
        _interface(got),
        _output_shape(got),
        judging.numbers_check(
            got,
            actual,
            expected,
            labels,
            found=main_found,
            passed="float64 outputs match the reference (self and cross)",
            advice="no single common mistake explains it: check the 1/sqrt(d_k) scaling, "
            "softmax over the keys (dim=-1), the head split and merge (view + transpose), "
            "keys versus values, and W_O",
        ),
        _weights(got, actual, expected, main_found),
        judging.masking_check(
            got,
            actual,
            expected,
            MASKS,
            numbers_ok=main_ok,
            found=mask_found,
            passed="a 0/1 causal mask and a bool padding mask both hide the right positions",
            accept="accept 0/1 and bool masks that broadcast to (batch, num_heads, seq_q, "
            "seq_k), e.g. scores.masked_fill(mask == 0, float('-inf'))",
        ),
        _independence(got, main_found),
        _gradients(got, data, ref, main_ok),
        judging.float32_check(
            got,
            expected,
            labels,
            device,
            numbers_ok=main_ok,
            prefix="f32.",
            missing_hint="tensors made inside forward must follow the input "
            "(device=Q.device, dtype=Q.dtype)",
        ),
        _determinism(got),
        _batch(got, actual),
        judging.finite_check(
            got,
            "f32.large.out",
            (BATCH, SEQ, D_MODEL),
            scaled=f"inputs scaled by {LARGE_SCALE:g}",
            nan_advice="use torch.softmax (or subtract each row's max before exp)",
        ),
        _other_sizes(got, data, main_ok),
    ]


def _interface(got: Outputs) -> CheckResult:
    for name in LAYERS:
        same = got.get(f"iface.{name}.weight_equal", ())
        if same is None or not bool(same):
            return CheckResult(
                "interface",
                False,
                f"{name}.weight could not be set and read back: "
                f"{name} must be nn.Linear({D_MODEL}, {D_MODEL})",
            )
    no_bias = got.note("no_bias")
    if no_bias:
        return CheckResult(
            "interface",
            False,
            f"{no_bias.replace(',', ', ')} have no bias: use "
            f"nn.Linear(d_model, d_model) (bias=True is the default)",
        )
    return CheckResult(
        "interface",
        True,
        f"{ENTRY}({D_MODEL}, {NUM_HEADS}) has W_Q, W_K, W_V, W_O as "
        f"nn.Linear({D_MODEL}, {D_MODEL})",
    )


def _output_shape(got: Outputs) -> CheckResult:
    problems = []
    for case, label, call in (
        (
            "self",
            "self-attention",
            f"Q = K = V of shape {judging.describe_shape((BATCH, SEQ, D_MODEL))}",
        ),
        (
            "cross",
            "cross-attention",
            f"Q {judging.describe_shape((BATCH, SEQ_Q, D_MODEL))}, K and V "
            f"{judging.describe_shape((BATCH, SEQ_K, D_MODEL))}",
        ),
    ):
        want = (BATCH, SEQ if case == "self" else SEQ_Q, D_MODEL)
        if got.get(f"{case}.out", want) is None:
            problems.append(f"{label} ({call}): the output {got.why(f'{case}.out')}")
    if problems:
        return CheckResult("output_shape", False, "; ".join(problems))
    return CheckResult(
        "output_shape", True, "outputs are (batch, seq_q, d_model) for self- and cross-attention"
    )


def _weights(
    got: Outputs,
    actual: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    found: tuple[Mistake, ...],
) -> CheckResult:
    name = "attention_weights"
    returned = [c for c in ("self", "cross") if got.has(f"{c}.weights")]
    if not returned:
        return CheckResult(name, True, "forward returns only the output (weights are optional)")
    for case in returned:
        key = f"{case}.weights"
        if key not in actual:
            return CheckResult(
                name,
                False,
                f"{case}-attention weights {got.why(key)} = (batch, num_heads, seq_q, seq_k)",
            )
        sums = actual[key].sum(dim=-1)
        if not bool(torch.isfinite(sums).all()):
            return CheckResult(name, False, f"{case}-attention weights contain NaN or inf")
        off = float((sums - 1).abs().max())
        if off > judging.ROW_SUM_ATOL:
            hint = f": {judging.explain(found)}" if found else ": softmax over the keys (dim=-1)"
            return CheckResult(
                name,
                False,
                f"rows of the {case}-attention weights do not sum to 1 (off by up "
                f"to {off:.3g}){hint}",
            )
        bad = [
            str(h)
            for h in range(NUM_HEADS)
            if not judging.compare(actual[key][:, h], expected[key][:, h], judging.FLOAT64).ok
        ]
        if bad:
            hint = f": {judging.explain(found)}" if found else ""
            return CheckResult(
                name,
                False,
                f"{case}-attention weights differ from the reference for heads "
                f"{', '.join(bad)} of {NUM_HEADS}{hint}",
            )
    return CheckResult(
        name,
        True,
        "weights are (batch, num_heads, seq_q, seq_k), rows sum to 1, "
        "every head matches the reference",
    )


def _independence(got: Outputs, found: tuple[Mistake, ...]) -> CheckResult:
    name = "head_independence"
    for head in (0, NUM_HEADS - 1):
        own = slice(head * D_K, (head + 1) * D_K)
        for layer in ("W_Q", "W_K", "W_V"):
            key = f"indep.h{head}.{layer}.head_max"
            blocks = got.get(key, (NUM_HEADS,))
            if blocks is None:
                return CheckResult(
                    name,
                    False,
                    f"with W_O = identity, back-propagating head {head}'s output "
                    f"slice failed: it {got.why(key)}",
                )
            leaks = [
                str(h) for h in range(NUM_HEADS) if h != head and blocks[h] > judging.ZERO_GRAD_ATOL
            ]
            if leaks:
                hint = judging.explain(m for m in found if m.group in ("split", "merge")) or (
                    "split heads with .view(batch, seq, num_heads, d_k).transpose(1, 2) and "
                    "merge with .transpose(1, 2).reshape(batch, seq, d_model)"
                )
                return CheckResult(
                    name,
                    False,
                    f"with W_O = identity, output columns {own.start}-"
                    f"{own.stop - 1} (head {head}) depend on the {layer} rows of heads "
                    f"{', '.join(leaks)}: the heads are mixed; {hint}",
                )
            if layer != "W_V" and not bool(torch.isfinite(blocks[head])):
                return CheckResult(name, False, f"head {head}'s gradients contain NaN or inf")
            if float(blocks[head]) == 0.0:
                return CheckResult(
                    name,
                    False,
                    f"head {head}'s output gets no gradient through its own {layer} "
                    f"rows {own.start}-{own.stop - 1}: the graph is cut (see gradients) or the "
                    "heads are mixed",
                )
    return CheckResult(
        name, True, "each head's output depends only on its own rows of W_Q, W_K and W_V"
    )


def _gradients(
    got: Outputs, data: dict[str, torch.Tensor], ref: torch.nn.Module, main_ok: bool
) -> CheckResult:
    name = "gradients"
    ref.zero_grad(set_to_none=True)
    out, _ = ref(data["x"], data["x"], data["x"])
    (out * data["grad_seed"]).sum().backward()
    missing, wrong = [], []
    for layer in LAYERS:
        for kind in ("weight", "bias"):
            key = f"grad.{layer}.{kind}"
            expected = getattr(getattr(ref, layer), kind).grad
            actual = got.get(key, tuple(expected.shape))
            if actual is None:
                missing.append(f"{layer}.{kind}")
            elif not judging.compare(actual, expected, judging.FLOAT64).ok:
                wrong.append(f"{layer}.{kind}")
    note = got.note("grad")
    if note and not got.has("grad.W_Q.weight"):
        return CheckResult(name, False, f"backward() through forward(x, x, x) raised {note}")
    unused = got.note("grad.unused")
    if missing and got.note("no_bias") and all(m.endswith(".bias") for m in missing):
        missing = []
    if missing:
        return CheckResult(
            name,
            False,
            f"no gradient reaches {', '.join(missing)}: something cuts the graph "
            "(.detach(), .data, torch.no_grad(), or a tensor rebuilt with torch.tensor(...))",
        )
    if unused:
        return CheckResult(
            name,
            False,
            f"parameters {unused.replace(',', ', ')} receive no gradient: use them "
            "in forward or remove them",
        )
    if wrong:
        if not main_ok:
            return CheckResult(
                name,
                False,
                "gradients differ from the reference because the forward output "
                "does (see numbers_float64)",
            )
        return CheckResult(
            name,
            False,
            f"gradients of {', '.join(wrong)} differ from the reference although "
            "the output agrees: avoid in-place edits of tensors autograd needs",
        )
    return CheckResult(name, True, "gradients reach every parameter and match the reference")


def _determinism(got: Outputs) -> CheckResult:
    name = "determinism"
    first = got.get("f32.self.out")
    second = got.get("f32.again.out")
    if first is None or second is None:
        return CheckResult(
            name,
            False,
            f"two eval-mode calls did not both run: the second {got.why('f32.again.out')}",
        )
    if first.shape != second.shape or not judging.compare(second, first, judging.DETERMINISM).ok:
        return CheckResult(
            name,
            False,
            "two eval-mode calls on the same input give different outputs: dropout "
            "is active in eval mode (use nn.Dropout as a submodule, or "
            "F.dropout(..., training=self.training))",
        )
    return CheckResult(name, True, "eval mode is deterministic")


def _batch(got: Outputs, actual: dict[str, torch.Tensor]) -> CheckResult:
    name = "batch_independence"
    together = actual.get("self.out")
    if together is None:
        return CheckResult(name, False, f"no batched output: it {got.why('self.out')}")
    for i in range(BATCH):
        alone = got.get(f"b{i}.out", (1, SEQ, D_MODEL))
        if alone is None:
            return CheckResult(
                name, False, f"a batch of one sequence: the output {got.why(f'b{i}.out')}"
            )
        if not judging.compare(alone, together[i : i + 1], judging.FLOAT64).ok:
            return CheckResult(
                name,
                False,
                f"sequence {i}'s output changes when other sequences share its "
                "batch: something mixes the batch dimension (a softmax or a reshape across "
                "dim 0, or a hard-coded batch size)",
            )
    return CheckResult(name, True, "each sequence's output is independent of the rest of the batch")


def _other_sizes(got: Outputs, data: dict[str, torch.Tensor], main_ok: bool) -> CheckResult:
    name = "other_sizes"
    size = f"d_model={SMALL_D}, num_heads={SMALL_HEADS}"
    actual = got.get("small.out", (BATCH, SEQ_Q, SMALL_D))
    if actual is None:
        return CheckResult(
            name,
            False,
            f"with {size} the output {got.why('small.out')}: "
            "derive every size from the constructor arguments and the inputs",
        )
    ref = _reference_module(data, "small.w.", SMALL_D, SMALL_HEADS)
    x = data["small.x"]
    with torch.no_grad():
        expected, _ = ref(x, x, x)
    comparison = judging.compare(actual, expected, judging.FLOAT64)
    if comparison.ok:
        return CheckResult(name, True, f"also correct with {size}")
    if not main_ok:
        return CheckResult(name, False, f"with {size} the output differs too (see numbers_float64)")
    return CheckResult(
        name,
        False,
        f"correct with d_model={D_MODEL}, num_heads={NUM_HEADS} but not with "
        f"{size} ({comparison.describe()}): a size is hard-coded; use d_k = d_model // num_heads",
    )
