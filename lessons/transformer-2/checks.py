"""Trusted checks for transformer-2: the learner's pre-norm block against reference.py.

d_model 64, 4 heads (d_head 16) and d_ff 96, not 4 * d_model, so a hard-coded width
fails when the weights are loaded. The trusted weights go into every layer, the two
LayerNorms get weights away from 1 and 0 and different from each other, so a shared or
missing norm shows. On disagreement ``_variant`` rebuilds the block with the mistakes
people make (post-norm, a residual taken from the normalised input, an extra final
norm, one LayerNorm for both sub-layers, a hand-written LayerNorm with the unbiased
variance or eps outside the square root, ReLU or GELU's tanh form, a missing residual,
the attention mistakes of the toolkit) and names the match.

``pre_norm`` tests the structure apart from the numbers: with attn.W_O and ff2 zeroed,
each sub-layer adds exactly 0, so a pre-norm block must return its input unchanged,
while a post-norm block returns LayerNorm-ed values whatever else is right.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "TransformerBlock"
ATTENTION = ("W_Q", "W_K", "W_V", "W_O")
D_MODEL, NUM_HEADS, D_FF, BATCH, SEQ = 64, 4, 96, 2, 6
D_HEAD = D_MODEL // NUM_HEADS
EPS = 1e-5  # nn.LayerNorm's default
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "pre_norm",
    "masking",
    "gradients",
    "determinism",
    "numbers_float32",
)
MASKS = {
    "causal.out": f"a 0/1 causal mask of shape {judging.describe_shape((SEQ, SEQ))}",
    "pad.out": f"a bool padding mask of shape {judging.describe_shape((BATCH, 1, 1, SEQ))}",
}
LABELS = {"plain.out": f"x of shape {judging.describe_shape((BATCH, SEQ, D_MODEL))}"}
PRE_NORM = "x = x + attn(ln1(x)); x = x + ff(ln2(x))"
MISTAKES = (
    Mistake(
        "post_norm",
        "this is a post-norm block: LayerNorm comes after each residual add (x = ln(x + "
        "sublayer(x)), as in the original Transformer); a pre-norm block normalises each "
        f"sub-layer's input and adds its output to the un-normalised stream: {PRE_NORM}",
        "norm",
    ),
    Mistake(
        "residual_normed",
        "the residual adds the normalised x (h = ln1(x); x = h + attn(h)): keep the residual "
        f"stream un-normalised and normalise only the sub-layer's input: {PRE_NORM}",
        "norm",
    ),
    Mistake(
        "final_norm",
        "the block's output is normalised again: a pre-norm block returns the residual stream "
        "x + ff(ln2(x)); the final LayerNorm belongs after the model's last block",
        "final",
    ),
    Mistake(
        "ln_shared",
        "ln1 normalises the input of both sub-layers: the feed-forward's input is normalised "
        "by ln2, with its own weights",
        "ln",
    ),
    Mistake(
        "ln_unbiased",
        "the LayerNorm uses the unbiased variance (x.var() divides by d - 1); LayerNorm divides "
        "by d: x.var(dim=-1, unbiased=False), or nn.LayerNorm",
        "ln_var",
    ),
    Mistake(
        "ln_eps_outside",
        "the LayerNorm adds eps to the standard deviation; nn.LayerNorm adds it to the "
        "variance: (x - mean) / sqrt(var + eps)",
        "ln_eps",
    ),
    Mistake(
        "gelu_tanh",
        "the feed-forward uses GELU's tanh approximation (GPT-2's); this block uses the exact "
        "GELU, nn.GELU() or F.gelu(x)",
        "act",
    ),
    Mistake(
        "relu", "the feed-forward uses ReLU; this block uses GELU: nn.GELU() or F.gelu(x)", "act"
    ),
    Mistake(
        "no_attn_residual",
        "the attention sub-layer has no residual connection: x = x + attn(ln1(x))",
        "res_attn",
    ),
    Mistake(
        "no_ff_residual",
        "the feed-forward sub-layer has no residual connection: x = x + ff(ln2(x))",
        "res_ff",
    ),
    *judging.attention_mistakes(
        "no_scale",
        "scale_dmodel",
        "softmax_queries",
        "split_no_transpose",
        "merge_no_transpose",
        "no_w_o",
        d_k=D_HEAD,
        d_model=D_MODEL,
        size="d_head",
    ),
    *judging.mask_mistakes(),
)
INTERFACE = judging.build_failed(
    f"{ENTRY}({D_MODEL}, {NUM_HEADS}, {D_FF}, dropout=0.1) and load ln1, ln2, "
    "attn.W_Q/W_K/W_V/W_O, ff1, ff2",
    dict.fromkeys(
        ("ff1.weight has shape", "ff2.weight has shape"),
        f": the feed-forward width is the constructor's d_ff = {D_FF}, not 4 * d_model",
    ),
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    inputs = {
        "config": torch.tensor([D_MODEL, NUM_HEADS, D_FF], dtype=torch.int64),
        "x": randn(BATCH, SEQ, D_MODEL),
        "mask_causal": torch.tril(torch.ones(SEQ, SEQ, dtype=torch.int64)),
        "mask_pad": judging.padding_mask(SEQ, slice(-2, None), [0, 3]),
        "grad_seed": randn(BATCH, SEQ, D_MODEL),
    }
    for norm in ("ln1", "ln2"):
        inputs[f"w.{norm}.weight"] = 1.0 + randn(D_MODEL, scale=0.2)
        inputs[f"w.{norm}.bias"] = randn(D_MODEL, scale=0.2)
    for name in ATTENTION:
        inputs[f"w.attn.{name}.weight"] = randn(D_MODEL, D_MODEL, scale=D_MODEL**-0.5)
        inputs[f"w.attn.{name}.bias"] = randn(D_MODEL, scale=0.1)
    for name, (out, into) in (("ff1", (D_FF, D_MODEL)), ("ff2", (D_MODEL, D_FF))):
        inputs[f"w.{name}.weight"] = randn(out, into, scale=into**-0.5)
        inputs[f"w.{name}.bias"] = randn(out, scale=0.1)
    return inputs


def _reference(data: dict[str, torch.Tensor]) -> torch.nn.Module:
    block = reference.TransformerBlock(D_MODEL, NUM_HEADS, D_FF).double().eval()
    judging.copy_linears(block, data, "w.", ("ln1", "ln2", "ff1", "ff2"))
    judging.copy_linears(block.attn, data, "w.attn.", ATTENTION)
    return block


def _layer_norm(
    x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None, mistakes: frozenset
) -> torch.Tensor:
    centred = x - x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased="ln_unbiased" in mistakes)
    if "ln_eps_outside" in mistakes:
        normed = centred / (var.sqrt() + EPS)
    else:
        normed = centred / torch.sqrt(var + EPS)
    return normed if weight is None else normed * weight + bias


def _variant(
    data: dict[str, torch.Tensor], x: torch.Tensor, mask: torch.Tensor | None, mistakes: frozenset
) -> torch.Tensor:
    """The block as a function of the trusted weights, with the named mistakes applied."""

    def norm(name: str, h: torch.Tensor) -> torch.Tensor:
        name = "ln1" if "ln_shared" in mistakes else name
        return _layer_norm(h, data[f"w.{name}.weight"], data[f"w.{name}.bias"], mistakes)

    attention = {k.removeprefix("w.attn."): v for k, v in data.items() if k.startswith("w.attn.")}

    def attn(h: torch.Tensor) -> torch.Tensor:
        return judging.multi_head_attention(h, h, h, attention, NUM_HEADS, mask, mistakes=mistakes)[
            0
        ]

    def ff(h: torch.Tensor) -> torch.Tensor:
        hidden = judging.linear(h, data["w.ff1.weight"], data["w.ff1.bias"])
        if "relu" in mistakes:
            hidden = torch.relu(hidden)
        else:
            hidden = F.gelu(hidden, approximate="tanh" if "gelu_tanh" in mistakes else "none")
        return judging.linear(hidden, data["w.ff2.weight"], data["w.ff2.bias"])

    if "post_norm" in mistakes:
        h = norm("ln1", x + attn(x))
        return norm("ln2", h + ff(h))
    if "residual_normed" in mistakes:
        h = norm("ln1", x)
        h = h + attn(h)
        g = norm("ln2", h)
        return g + ff(g)
    h = attn(norm("ln1", x)) + (0.0 if "no_attn_residual" in mistakes else x)
    out = ff(norm("ln2", h)) + (0.0 if "no_ff_residual" in mistakes else h)
    return _layer_norm(out, None, None, frozenset()) if "final_norm" in mistakes else out


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    block = _reference(data)
    x = data["x"]
    cases = {"plain": None, "causal": data["mask_causal"], "pad": data["mask_pad"]}
    with torch.no_grad():
        expected = {f"{case}.out": block(x, mask) for case, mask in cases.items()}
    actual = got.like(expected)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {f"{case}.out": _variant(data, x, mask, mistakes) for case, mask in cases.items()}

    main_ok = judging.agree(actual, expected, LABELS)
    found = None
    if not (main_ok and judging.agree(actual, expected, MASKS)):
        found = judging.diagnose(actual, variant, MISTAKES)
    main_found = tuple(m for m in found or () if m.group != "mask")
    return [
        CheckResult(
            "interface",
            True,
            f"{ENTRY}({D_MODEL}, {NUM_HEADS}, {D_FF}) has ln1, ln2, attn.W_Q/W_K/W_V/W_O, "
            "ff1 and ff2",
        ),
        _output_shape(got),
        judging.numbers_check(
            got,
            actual,
            expected,
            LABELS,
            found=main_found,
            passed="with the reference's weights, the block's output matches the reference",
            advice=f"check the pre-norm order ({PRE_NORM}), the GELU feed-forward and the "
            "attention (scale 1/sqrt(d_head), head split and merge, W_O)",
        ),
        _pre_norm(got, data, main_found),
        judging.masking_check(
            got,
            actual,
            expected,
            MASKS,
            numbers_ok=main_ok,
            found=tuple(m for m in found or () if m.group == "mask"),
            passed="the mask reaches the attention: a 0/1 causal mask and a bool padding mask "
            "hide the right positions",
            accept="pass the mask on to the attention; accept 0/1 and bool masks that "
            "broadcast to (batch, num_heads, seq, seq)",
        ),
        _gradients(got, data, main_ok),
        judging.determinism_check(
            got, "plain.out", "again.out", setting="built with dropout=0.1 and put in eval mode, "
        ),
        judging.float32_check(
            got,
            expected,
            {"plain.out": "the block"},
            device,
            numbers_ok=main_ok,
            prefix="f32.",
            missing_hint="tensors made inside forward must follow the input "
            "(device=x.device, dtype=x.dtype)",
        ),
    ]


def _output_shape(got: Outputs) -> CheckResult:
    key, shape = "plain.out", (BATCH, SEQ, D_MODEL)
    if got.get(key, shape) is None:
        return CheckResult("output_shape", False, f"with {LABELS[key]} the output {got.why(key)}")
    return CheckResult("output_shape", True, "the output has x's shape (batch, seq, d_model)")


def _pre_norm(
    got: Outputs, data: dict[str, torch.Tensor], found: tuple[Mistake, ...]
) -> CheckResult:
    name = "pre_norm"
    what = "with attn.W_O and ff2 set to zero, each sub-layer adds 0 to the residual stream, so "
    key = "zeroed.out"
    x = data["x"]
    out = got.get(key, tuple(x.shape))
    if out is None:
        return CheckResult(name, False, f"{what}the block must return x; the output {got.why(key)}")
    if judging.compare(out, x, judging.FLOAT64).ok:
        return CheckResult(name, True, f"{what}the block returns x unchanged: it is pre-norm")
    # Post-norm with both sub-layers adding 0 is ln2(ln1(x)), whatever else is right.
    post_norm = _layer_norm(
        _layer_norm(x, data["w.ln1.weight"], data["w.ln1.bias"], frozenset()),
        data["w.ln2.weight"],
        data["w.ln2.bias"],
        frozenset(),
    )
    if judging.compare(out, post_norm, judging.DIAGNOSIS).ok:
        found = (*found, next(m for m in MISTAKES if m.id == "post_norm"))
    norms = [m for m in dict.fromkeys(found) if m.group in ("norm", "final")]
    if norms:
        return CheckResult(
            name,
            False,
            f"{what}the block must return x; it returns other values: {judging.explain(norms)}",
        )
    spread = out.std(dim=-1, unbiased=False)
    centred = out.mean(dim=-1).abs().max() < 1e-6
    if centred and bool(((spread - 1).abs() < 1e-3).all()):
        return CheckResult(
            name,
            False,
            f"{what}the block must return x; it returns LayerNorm-ed values (each row has mean 0 "
            "and variance 1): the residual stream is normalised inside the block (post-norm, or "
            f"a final norm); a pre-norm block is {PRE_NORM}",
        )
    if float(out.abs().max()) == 0.0:
        return CheckResult(
            name,
            False,
            f"{what}the block must return x; it returns zeros: a sub-layer's output replaces "
            "the stream instead of being added to it",
        )
    return CheckResult(
        name,
        False,
        f"{what}the block must return x; it returns other values: something besides the two "
        f"residual sub-layers changes the stream ({PRE_NORM})",
    )


def _gradients(got: Outputs, data: dict[str, torch.Tensor], main_ok: bool) -> CheckResult:
    block = _reference(data)
    block.zero_grad(set_to_none=True)
    (block(data["x"]) * data["grad_seed"]).sum().backward()
    return judging.gradients_check(
        got,
        {name: param.grad for name, param in block.named_parameters()},
        outputs_ok=main_ok,
        what="backward() through the block",
    )
