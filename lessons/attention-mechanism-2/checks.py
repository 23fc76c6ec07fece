"""Trusted checks for attention-mechanism-2: masked_attention against reference.py.

The cases cover no mask (3-D with seq_q != seq_k and d_v != d_k, 4-D), causal=True
(square, and 5 queries over 7 keys, where top-left and bottom-right alignment differ),
key padding masks of shape (batch, seq_k), (batch, 1, seq_k) and (batch, heads, seq_k),
causal and padding combined, and two cases with rows that see no key at all: a
left-padded causal batch (its first queries' only visible keys are padding) and a
sequence that is all padding. Those rows must be zeros, and back-propagating through
them must give finite gradients equal to the reference's: the usual patches (-inf, then
torch.where or nan_to_num) are clean forwards whose backward is NaN.

On disagreement ``_variant`` rebuilds the visible-key mask with the mistakes people make
(causal alignment and diagonal, padding inverted, on the wrong axis or ignored) and
runs the toolkit's ``attention`` on it, and the matching mistake is named.
"""

from __future__ import annotations

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "masked_attention"
D_K, D_V, BATCH, HEADS, SEQ, SEQ_Q, SEQ_K = 16, 24, 2, 3, 6, 5, 7
LARGE_SCALE = 30.0
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "causal",
    "padding",
    "fully_masked_rows",
    "gradients",
    "numbers_float32",
    "finite_large_inputs",
)
INTERFACE = judging.define(
    f"{ENTRY}(q, k, v, causal=False, key_padding_mask=None) returning the output"
)
# name: (leading axes, seq_q, seq_k, d_v, causal, keys each sequence hides or None)
CASES = {
    "plain": ((BATCH,), SEQ_Q, SEQ_K, D_V, False, None),
    "heads": ((BATCH, HEADS), SEQ, SEQ, D_K, False, None),
    "causal": ((BATCH, HEADS), SEQ, SEQ, D_K, True, None),
    "causalwide": ((BATCH,), SEQ_Q, SEQ_K, D_K, True, None),
    "pad3d": ((BATCH,), SEQ, SEQ, D_K, False, ((BATCH,), (slice(-2, None), slice(-3, None)))),
    "pad4d": ((BATCH, HEADS), SEQ, SEQ, D_K, False, ((BATCH, 1), ([0], [2, 5]))),
    "padcausal": (
        (BATCH, HEADS),
        SEQ,
        SEQ,
        D_K,
        True,
        ((BATCH, HEADS), (slice(-1, None), slice(-2, None))),
    ),
    "leftpad": ((BATCH, HEADS), SEQ, SEQ, D_K, True, ((BATCH, 1), ([], slice(None, 2)))),
    "emptyseq": ((BATCH,), SEQ, SEQ, D_K, False, ((BATCH,), ([1], slice(None)))),
}
FLOAT32 = {  # float32 copies on the device: key -> label
    "plain.out": "3-D inputs",
    "causal.out": "causal=True",
    "pad4d.out": "a (batch, 1, seq_k) key_padding_mask",
    "leftpad.out": "causal=True with left padding",
}
LABELS = {
    "plain.out": f"3-D inputs ({SEQ_Q} queries, {SEQ_K} keys, d_v = {D_V})",
    "heads.out": "4-D (batch, heads, seq, d) inputs",
}
CAUSAL = {
    "causal.out": f"causal=True on 4-D inputs of seq {SEQ}",
    "causalwide.out": f"causal=True with {SEQ_Q} queries and {SEQ_K} keys",
}
PADDING = {
    "pad3d.out": f"a {judging.describe_shape((BATCH, SEQ))} key_padding_mask on 3-D inputs",
    "pad4d.out": f"a {judging.describe_shape((BATCH, 1, SEQ))} key_padding_mask on 4-D inputs",
    "padcausal.out": (
        f"causal=True and a {judging.describe_shape((BATCH, HEADS, SEQ))} key_padding_mask"
    ),
}
FULLY_MASKED = {
    "leftpad": "causal=True and left padding (the first two queries of sequence 1 see only "
    "padding)",
    "emptyseq": "a sequence that is all padding",
}
MISTAKES = (
    *judging.attention_mistakes("no_scale", "softmax_queries", "kv_swapped", d_k=D_K, size="d"),
    Mistake(
        "causal_ignored",
        "causal=True has no effect: hide the keys after each query (key j > query i)",
        "causal",
    ),
    Mistake(
        "causal_excludes_diagonal",
        "the causal mask also hides the diagonal: query i sees keys 0..i, itself included "
        "(hide key j > i, not j >= i)",
        "causal",
    ),
    Mistake(
        "causal_one_ahead",
        "the causal mask is off by one: query i also sees key i + 1; hide key j > i",
        "causal",
    ),
    Mistake(
        "causal_inverted",
        "the causal mask is inverted: query i sees the keys after it; keep key j <= i "
        "(tril marks what to keep, triu(diagonal=1) what to hide)",
        "causal",
    ),
    Mistake(
        "causal_bottom_right",
        "the causal mask is aligned bottom-right (query i sees keys j <= i + seq_k - seq_q, "
        f"here i + {SEQ_K - SEQ_Q}), as for the last queries of a decode; causal=True is "
        "top-left aligned, as scaled_dot_product_attention(is_causal=True): query i sees "
        "keys j <= i, torch.ones(seq_q, seq_k).tril()",
        "causal",
    ),
    Mistake(
        "mask_inverted",
        "key_padding_mask is inverted: True marks a real token, to be kept, False padding, to "
        "be hidden",
        "mask",
    ),
    Mistake(
        "mask_ignored", "key_padding_mask has no effect: hide the keys where it is False", "mask"
    ),
    Mistake(
        "padding_on_queries",
        "key_padding_mask hides query rows (mask[..., :, None]); it marks keys: broadcast it "
        "over the score columns, key_padding_mask[..., None, :]",
        "mask",
    ),
    Mistake(
        "mask_zero_fill",
        "hidden scores are set to 0, so hidden keys still get weight: fill them with a very "
        "negative number before the softmax",
        "mask",
    ),
    Mistake(
        "mask_after_softmax",
        "the mask is applied after the softmax only, so the visible weights no longer sum to "
        "1: hide the scores before the softmax (and zero the hidden weights after it)",
        "mask",
    ),
)
# Mistakes of the whole visible-key mask that the toolkit's attention applies itself.
_ATTENTION_IDS = frozenset(
    {"no_scale", "softmax_queries", "kv_swapped", "mask_zero_fill", "mask_after_softmax"}
)
NAN_ADVICE = (
    "fill hidden scores with a finite very negative number, torch.finfo(scores.dtype).min, "
    "and set the hidden weights to 0 after the softmax"
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    inputs: dict[str, torch.Tensor] = {}
    for name, (lead, seq_q, seq_k, d_v, causal, padding) in CASES.items():
        inputs[f"{name}.q"] = randn(*lead, seq_q, D_K)
        inputs[f"{name}.k"] = randn(*lead, seq_k, D_K)
        inputs[f"{name}.v"] = randn(*lead, seq_k, d_v)
        if causal:
            inputs[f"{name}.causal"] = torch.tensor(1)
        if padding is not None:
            shape, hidden = padding
            mask = torch.ones(BATCH, seq_k, dtype=torch.bool)
            for row, keys in enumerate(hidden):
                mask[row, keys] = False
            inputs[f"{name}.kpm"] = (
                mask.reshape(BATCH, *([1] * (len(shape) - 1)), seq_k)
                .expand(*shape, seq_k)
                .contiguous()
            )
    for key in FLOAT32:
        case = key.removesuffix(".out")
        for n in ("q", "k", "v", "causal", "kpm"):
            if f"{case}.{n}" in inputs:
                inputs[f"f32.{case}.{n}"] = inputs[f"{case}.{n}"].clone()
    for n in ("q", "k", "v", "causal", "kpm"):
        scale = LARGE_SCALE if n in ("q", "k") else 1.0
        value = inputs[f"padcausal.{n}"]
        inputs[f"f32.large.{n}"] = value * scale if value.is_floating_point() else value.clone()
    inputs["grad_seed"] = randn(BATCH, HEADS, SEQ, D_K)
    return inputs


Args = tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool, torch.Tensor | None]


def _args(data: dict[str, torch.Tensor], case: str) -> Args:
    q, k, v = (data[f"{case}.{n}"].double() for n in ("q", "k", "v"))
    return q, k, v, f"{case}.causal" in data, data.get(f"{case}.kpm")


def _variant(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool,
    kpm: torch.Tensor | None,
    mistakes: frozenset[str],
) -> torch.Tensor:
    """Masked attention with the named mistakes (NaN where a mistake hides a whole row)."""
    keep = None
    if causal and "causal_ignored" not in mistakes:
        rows, cols = torch.arange(q.shape[-2])[:, None], torch.arange(k.shape[-2])[None, :]
        if "causal_bottom_right" in mistakes:
            hidden = cols > rows + (k.shape[-2] - q.shape[-2])
        elif "causal_inverted" in mistakes:
            hidden = cols <= rows
        else:
            hidden = judging.causal_hidden(rows, cols, mistakes)
        keep = ~hidden
    if kpm is not None and "mask_ignored" not in mistakes:
        pad = ~kpm if "mask_inverted" in mistakes else kpm
        pad = pad[..., :, None] if "padding_on_queries" in mistakes else pad[..., None, :]
        keep = pad if keep is None else keep & pad
    return judging.attention(q, k, v, keep, mistakes=mistakes & _ATTENTION_IDS)[0]


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    expected = {f"{c}.out": reference.masked_attention(*_args(data, c)) for c in CASES}
    actual = got.like(expected)
    diagnosed = {**LABELS, **CAUSAL, **PADDING}

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {
            key: _variant(*_args(data, key.removesuffix(".out")), mistakes) for key in diagnosed
        }

    main_ok, causal_ok, padding_ok = (
        judging.agree(actual, expected, keys) for keys in (LABELS, CAUSAL, PADDING)
    )
    found = None
    if not (main_ok and causal_ok and padding_ok):
        found = judging.diagnose(
            {k: v for k, v in actual.items() if k in diagnosed}, variant, MISTAKES
        )
    main_found = tuple(m for m in found or () if m.group not in ("causal", "mask"))
    causal_found = tuple(m for m in found or () if m.group == "causal")
    mask_found = tuple(m for m in found or () if m.group == "mask")
    masks_ok = main_ok and causal_ok and padding_ok
    fully_masked = _fully_masked(got, data, expected, actual, masks_ok)
    outputs_ok = masks_ok and fully_masked.passed
    # With causal=True wrong, the causal-and-padding case says nothing more about padding.
    padding = _without(PADDING, "padcausal.out", unless=causal_ok)
    # Rows that see no key are judged once, by fully_masked_rows.
    float32 = _without(FLOAT32, "leftpad.out", unless=fully_masked.passed)
    large = _args(data, "f32.large")
    return [
        _interface(got),
        _output_shape(got, expected),
        judging.numbers_check(
            got,
            actual,
            expected,
            LABELS,
            found=main_found,
            passed="float64 outputs without a mask match the reference",
            advice="check q @ k.transpose(-2, -1) / sqrt(d), the softmax over the keys "
            "(dim=-1) and weights @ v",
        ),
        judging.masking_check(
            got,
            actual,
            expected,
            CAUSAL,
            numbers_ok=main_ok,
            found=causal_found,
            passed="causal=True lets query i see keys j <= i, also with seq_q != seq_k",
            accept="causal=True must work on 3-D and 4-D inputs and with seq_q != seq_k",
            unexplained="outputs without a mask agree but causal ones differ",
            advice="query i sees keys j <= i: keep torch.ones(seq_q, seq_k).tril()",
            name="causal",
        ),
        judging.masking_check(
            got,
            actual,
            expected,
            padding,
            numbers_ok=main_ok,
            found=mask_found,
            passed="key_padding_mask of shape (batch, seq_k), (batch, 1, seq_k) and (batch, "
            "heads, seq_k) hides the padding keys from every query",
            accept="accept a bool key_padding_mask with q's leading axes (or axes of size 1) "
            "and seq_k, and broadcast it as key_padding_mask[..., None, :]",
            unexplained="outputs without a mask agree but padded ones differ",
            advice="hide the keys where key_padding_mask is False, for every query (and "
            "combine it with the causal mask by &)",
            name="padding",
        ),
        fully_masked,
        _gradients(got, data, outputs_ok),
        judging.float32_check(got, expected, float32, device, numbers_ok=outputs_ok, prefix="f32."),
        judging.finite_check(
            got,
            "f32.large.out",
            tuple(expected["padcausal.out"].shape),
            scaled=f"q and k scaled by {LARGE_SCALE:g} (causal, with padding)",
            expected=reference.masked_attention(*large),
            nan_advice="use torch.softmax (or subtract each row's max before exp)",
            wrong_advice="subtract the row max before exp (or use torch.softmax)"
            if masks_ok
            else "see numbers_float64, causal and padding",
        ),
    ]


def _without(labels: dict[str, str], key: str, *, unless: bool) -> dict[str, str]:
    return labels if unless else {k: v for k, v in labels.items() if k != key}


def _interface(got: Outputs) -> CheckResult:
    note = got.note("plain") or ""
    if "not a tensor" in note:
        return CheckResult(
            "interface",
            False,
            f"{ENTRY} {note.removeprefix('TypeError: ')}: return only the output, a tensor "
            "of shape (..., seq_q, d_v), not (output, weights)",
        )
    return CheckResult("interface", True, f"{ENTRY} is defined")


def _output_shape(got: Outputs, expected: dict[str, torch.Tensor]) -> CheckResult:
    for key, label in LABELS.items():
        shape = tuple(expected[key].shape)
        if got.get(key, shape) is None:
            return CheckResult(
                "output_shape",
                False,
                f"with {label} the output {got.why(key)} (expected "
                f"{judging.describe_shape(shape)} = (..., seq_q, d_v))",
            )
    return CheckResult("output_shape", True, "the output is (..., seq_q, d_v)")


def _fully_masked(
    got: Outputs,
    data: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    actual: dict[str, torch.Tensor],
    masks_ok: bool,
) -> CheckResult:
    name = "fully_masked_rows"
    for case, label in FULLY_MASKED.items():
        key = f"{case}.out"
        out = actual.get(key)
        if out is None:
            return CheckResult(name, False, f"with {label} the output {got.why(key)}")
        q, k, v, causal, kpm = _args(data, case)
        blind = ~reference.visible(q, k, causal, kpm).any(dim=-1).expand(out.shape[:-1])
        rows = out[blind]
        if not bool(torch.isfinite(rows).all()):
            return CheckResult(
                name,
                False,
                f"with {label}, the rows that see no key give NaN (a softmax over a row of "
                f"-inf is 0/0): {NAN_ADVICE}, so that such a row returns zeros",
            )
        uniform = v.mean(dim=-2, keepdim=True).expand(out.shape)[blind]
        if judging.compare(rows, uniform, judging.DIAGNOSIS).ok:
            return CheckResult(
                name,
                False,
                f"with {label}, the rows that see no key return the plain average of all the "
                "values: a finite fill such as -1e9 makes their softmax uniform over the hidden "
                "keys; set the hidden weights to 0 after the softmax, so such a row returns zeros",
            )
        largest = float(rows.abs().max())
        if largest > judging.ZERO_GRAD_ATOL:
            return CheckResult(
                name,
                False,
                f"with {label}, the rows that see no key must return zeros; they return values "
                f"up to {largest:.3g} in size: set the hidden weights to 0 after the softmax",
            )
        # The rows that see a key, compared where they stand (the others set equal).
        others = torch.where(blind[..., None], expected[key], out)
        comparison = judging.compare(others, expected[key], judging.FLOAT64)
        if not comparison.ok:
            where = "see causal and padding" if not masks_ok else "check how the masks combine"
            return CheckResult(
                name,
                False,
                f"with {label}, the rows that see no key are zeros but the other rows differ "
                f"from the reference ({comparison.describe()}): {where}",
            )
    return CheckResult(name, True, "rows that see no key return zeros, and every other row matches")


def _gradients(got: Outputs, data: dict[str, torch.Tensor], outputs_ok: bool) -> CheckResult:
    label = FULLY_MASKED["leftpad"]
    q, k, v, causal, kpm = _args(data, "leftpad")
    leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
    (reference.masked_attention(*leaves, causal, kpm) * data["grad_seed"]).sum().backward()
    return judging.gradients_check(
        got,
        {n: t.grad for n, t in zip(("q", "k", "v"), leaves, strict=True)},
        outputs_ok=outputs_ok,
        what=f"back-propagating through {label}",
        nan_advice="a NaN made in the forward pass (a softmax over a row of -inf) still reaches "
        "the backward pass through torch.where or nan_to_num, which multiply 0 by NaN; never "
        f"make the NaN: {NAN_ADVICE}",
        outputs_check="fully_masked_rows",
        passed=f"with {label}, the gradients of q, k and v are finite and match",
    )
