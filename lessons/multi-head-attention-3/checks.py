"""Trusted checks for multi-head-attention-3: KV-cached attention against reference.py.

One sequence of 8 tokens (batch 2, d_model 64, 4 heads of 16) is run three ways by the
probe: whole, in one call; a prompt of 3 then one token per call; a prompt of 2 then
chunks of 4 and 2. All three must give the outputs of full causal attention over the
whole sequence, and the cache must hold (keys, values) split into heads, one position
more after each one-token call, with the keys W_K made when each token was new.

"Never recomputes past keys" is tested by behaviour, not by counting calls: between the
prompt and the next token the probe loads new W_K and W_V weights. A real cache still
holds the prompt's keys and values from the old weights; code that recomputes them
(from inputs it kept) uses the new ones, and those numbers are recognised. Two
sequences decoded in turn, each with its own cache, catch state kept in the module.

On disagreement ``_variant`` replays the same calls with common mistakes (the toolkit's
``attention`` and multi-head projections, plus decoding mistakes: the causal mask
aligned to the first key instead of the last, no mask once a cache exists, the cache
ignored) and names the match.
"""

from __future__ import annotations

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "CachedMultiHeadAttention"
LAYERS = ("W_Q", "W_K", "W_V", "W_O")
D_MODEL, NUM_HEADS, BATCH, SEQ = 64, 4, 2, 8
D_HEAD = D_MODEL // NUM_HEADS
PROMPT = 3
SPLITS = {
    "full": ((0, SEQ),),
    "decode": ((0, PROMPT), *((t, t + 1) for t in range(PROMPT, SEQ))),
    "chunk": ((0, 2), (2, 6), (6, SEQ)),
}
REWEIGHT_PROMPT, PAIR_PROMPT = 4, 3
CHECKS = (
    "interface",
    "output_shape",
    "full_sequence",
    "cache_format",
    "cache_growth",
    "decode_matches_full",
    "chunk_after_cache",
    "no_recompute",
    "independent_caches",
    "numbers_float32",
)
CACHE_SHAPE = (BATCH, NUM_HEADS, SEQ, D_HEAD)
LABELS = {
    "full": f"the whole sequence of {SEQ} tokens in one call",
    "decode": f"a prompt of {PROMPT} tokens, then one token per call",
    "chunk": "a prompt of 2 tokens, then chunks of 4 and 2 tokens",
}
_FUTURE = "hide key j from the new query i when j > seq_past + i"
MISTAKES = (
    *judging.attention_mistakes(
        "no_scale",
        "scale_dmodel",
        "softmax_queries",
        "kv_swapped",
        "split_no_transpose",
        "merge_no_transpose",
        "no_w_o",
        d_k=D_HEAD,
        d_model=D_MODEL,
        size="d_head",
    ),
    Mistake(
        "causal_ignored",
        f"the attention is not causal: a token must not see the tokens after it ({_FUTURE})",
        "causal",
    ),
    Mistake(
        "causal_excludes_diagonal",
        "the causal mask also hides the diagonal: a token sees itself (hide key j > i, not j >= i)",
        "causal",
    ),
    Mistake(
        "decode_top_left",
        "with a cache the causal mask is aligned to the first key (is_causal=True, or a "
        "tril(seq_new, seq_new) mask), so a new token sees only the first keys of the cache: "
        f"align it to the last key, {_FUTURE} (one new token sees every key)",
        "decode",
    ),
    Mistake(
        "decode_no_mask",
        "the causal mask is applied only when there is no cache, so a chunk of several new "
        f"tokens sees its own future: {_FUTURE}",
        "decode",
    ),
    Mistake(
        "decode_cache_ignored",
        "the new tokens attend only to themselves: the cached keys and values are not used; "
        "concatenate them in front of the new ones (dim=2) before the scores",
        "decode",
    ),
)
INTERFACE = judging.build_failed(
    f"{ENTRY}({D_MODEL}, {NUM_HEADS}) and load its W_Q, W_K, W_V, W_O",
    dict.fromkeys(
        ("has no attribute W_", "has no .weight"),
        "; in __init__ define self.W_Q = nn.Linear(d_model, d_model), and so on",
    ),
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    inputs = {
        "config": torch.tensor([D_MODEL, NUM_HEADS], dtype=torch.int64),
        "x": randn(BATCH, SEQ, D_MODEL),
        "reweight.prompt": torch.tensor(REWEIGHT_PROMPT),
        "pair.prompt": torch.tensor(PAIR_PROMPT),
    }
    for name, splits in SPLITS.items():
        inputs[f"splits.{name}"] = torch.tensor(splits, dtype=torch.int64)
    for prefix, layers in (("w.", LAYERS), ("w2.", ("W_K", "W_V"))):
        for layer in layers:
            inputs[f"{prefix}{layer}.weight"] = randn(D_MODEL, D_MODEL, scale=D_MODEL**-0.5)
            inputs[f"{prefix}{layer}.bias"] = randn(D_MODEL, scale=0.1)
    return inputs


def _weights(data: dict[str, torch.Tensor], prefix: str = "w.") -> dict[str, torch.Tensor]:
    return {k.removeprefix(prefix): v for k, v in data.items() if k.startswith(prefix)}


def _reference(weights: dict[str, torch.Tensor]) -> torch.nn.Module:
    module = reference.CachedMultiHeadAttention(D_MODEL, NUM_HEADS).double().eval()
    return judging.copy_linears(module, {f"w.{k}": v for k, v in weights.items()}, "w.", LAYERS)


def _replay(
    module: torch.nn.Module, x: torch.Tensor, splits: tuple[tuple[int, int], ...]
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """The reference module's outputs side by side and final cache, call by call."""
    cache, outs = None, []
    with torch.no_grad():
        for start, end in splits:
            out, cache = module(x[:, start:end], cache)
            outs.append(out)
    return torch.cat(outs, dim=1), cache


def _variant(
    x: torch.Tensor,
    weights: dict[str, torch.Tensor],
    splits: tuple[tuple[int, int], ...],
    mistakes: frozenset[str],
) -> torch.Tensor:
    """The same calls, with the named mistakes applied in each."""
    cached: tuple[torch.Tensor, torch.Tensor] | None = None
    outs = []
    for start, end in splits:
        q, k, v = (
            judging.project_heads(x[:, start:end], weights, layer, NUM_HEADS, mistakes=mistakes)
            for layer in ("W_Q", "W_K", "W_V")
        )
        if cached is not None and "decode_cache_ignored" not in mistakes:
            k, v = torch.cat([cached[0], k], dim=2), torch.cat([cached[1], v], dim=2)
        cached = (k, v)
        past = k.shape[2] - (end - start)
        rows = torch.arange(end - start)[:, None] + (0 if "decode_top_left" in mistakes else past)
        cols = torch.arange(k.shape[2])[None, :]
        unmasked = "causal_ignored" in mistakes or ("decode_no_mask" in mistakes and past > 0)
        keep = None if unmasked else ~judging.causal_hidden(rows, cols, mistakes)
        heads, _ = judging.attention(q, k, v, keep, mistakes=mistakes, d_model=D_MODEL)
        outs.append(judging.project_output(heads, weights, mistakes=mistakes))
    return torch.cat(outs, dim=1)


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    x, weights = data["x"], _weights(data)
    ref = _reference(weights)
    expected: dict[str, torch.Tensor] = {}
    for name, splits in SPLITS.items():
        expected[f"{name}.out"], (expected[f"{name}.keys"], expected[f"{name}.values"]) = _replay(
            ref, x, splits
        )
    actual = got.like(expected)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {f"{n}.out": _variant(x, weights, s, mistakes) for n, s in SPLITS.items()}

    runs = {f"{name}.out": label for name, label in LABELS.items()}
    found = None
    if not judging.agree(actual, expected, runs):
        found = judging.diagnose({k: v for k, v in actual.items() if k in runs}, variant, MISTAKES)
    full_found = tuple(m for m in found or () if m.group != "decode")
    decode_found = tuple(m for m in found or () if m.group == "decode")
    full_ok = judging.agree(actual, expected, ["full.out"])
    decode_ok = judging.agree(actual, expected, ["decode.out"])

    def decoded(run: str, passed: str, advice: str, *, name: str) -> CheckResult:
        """A run split over several calls against full causal attention."""
        return judging.numbers_check(
            got,
            actual,
            expected,
            {f"{run}.out": LABELS[run]},
            found=decode_found if full_ok else full_found,
            passed=passed,
            advice=advice if full_ok else "see full_sequence",
            name=name,
        )

    interface = _interface(got)
    if not interface.passed:
        return [interface, *judging.skip_all(CHECKS[1:], judging.INTERFACE_FAILED)]
    return [
        interface,
        _output_shape(got),
        judging.numbers_check(
            got,
            actual,
            expected,
            {"full.out": LABELS["full"]},
            found=full_found,
            passed=f"one call on all {SEQ} tokens matches full causal attention",
            advice="check the causal mask (key j <= query i), the scale 1/sqrt(d_head), the "
            "head split and merge, and W_O",
            name="full_sequence",
        ),
        _cache_format(got, expected),
        _cache_growth(got, expected, full_ok),
        decoded(
            "decode",
            "decoding one token at a time gives the outputs of full causal attention",
            "each new token must attend to every cached position and itself",
            name="decode_matches_full",
        ),
        decoded(
            "chunk",
            "chunks of several new tokens after a cache match full causal attention",
            _FUTURE,
            name="chunk_after_cache",
        ),
        _no_recompute(got, data, weights, decode_ok),
        _independent(got, expected, decode_ok),
        judging.float32_check(
            got,
            expected,
            {"full.out": LABELS["full"], "decode.out": LABELS["decode"]},
            device,
            numbers_ok=full_ok and decode_ok,
            prefix="f32.",
            missing_hint="tensors made inside forward must follow the input "
            "(device=x.device, dtype=x.dtype)",
            numbers_name="full_sequence" if not full_ok else "decode_matches_full",
        ),
    ]


def _interface(got: Outputs) -> CheckResult:
    note = got.note("full") or ""
    if "expected a tuple" in note or "expected tensors" in note:
        return CheckResult(
            "interface",
            False,
            f"forward(x) {note.removeprefix('TypeError: ')}: return (output, (keys, values)), "
            "the cache to pass to the next call",
        )
    return CheckResult(
        "interface",
        True,
        f"{ENTRY}({D_MODEL}, {NUM_HEADS}) has W_Q, W_K, W_V, W_O and returns "
        "(output, (keys, values))",
    )


def _output_shape(got: Outputs) -> CheckResult:
    key = "full.out"
    if got.get(key, (BATCH, SEQ, D_MODEL)) is None:
        return CheckResult(
            "output_shape", False, f"with {LABELS['full']} the output {got.why(key)}"
        )
    return CheckResult("output_shape", True, "the output is (batch, seq_new, d_model)")


def _cache_format(got: Outputs, expected: dict[str, torch.Tensor]) -> CheckResult:
    name = "cache_format"
    where = f"after {LABELS['full']}"
    for part in ("keys", "values"):
        key = f"full.{part}"
        if got.get(key, CACHE_SHAPE) is None:
            return CheckResult(
                name,
                False,
                f"{where} the cached {part} tensor {got.why(key)}: keep keys and values split into "
                f"heads, (batch, num_heads, seq, d_head) = {judging.describe_shape(CACHE_SHAPE)}",
            )
    keys, values = got.get("full.keys", CACHE_SHAPE), got.get("full.values", CACHE_SHAPE)
    right_keys = judging.compare(keys, expected["full.keys"], judging.FLOAT64).ok
    right_values = judging.compare(values, expected["full.values"], judging.FLOAT64).ok
    if right_keys and right_values:
        return CheckResult(
            name, True, "the cache is (keys, values): W_K(x) and W_V(x) split into heads"
        )
    if (
        judging.compare(keys, expected["full.values"], judging.FLOAT64).ok
        and judging.compare(values, expected["full.keys"], judging.FLOAT64).ok
    ):
        return CheckResult(
            name, False, f"{where} the cache holds (values, keys); return (keys, values)"
        )
    wrong = "keys" if not right_keys else "values"
    layer = "W_K" if wrong == "keys" else "W_V"
    return CheckResult(
        name,
        False,
        f"{where} the cached {wrong} are not {layer}(x) split into heads (as for the scores): "
        f"cache the projected {wrong}, (batch, num_heads, seq, d_head)",
    )


def _cache_growth(got: Outputs, expected: dict[str, torch.Tensor], full_ok: bool) -> CheckResult:
    name = "cache_growth"
    splits = SPLITS["decode"]
    lengths = got.get("decode.lengths", (len(splits), 2))
    if lengths is None:
        return CheckResult(
            name, False, f"with {LABELS['decode']}, no cache came back: it {got.why('decode.out')}"
        )
    want = [end for _, end in splits]
    for column, part in enumerate(("keys", "values")):
        seen = [int(n) for n in lengths[:, column].tolist()]
        if seen != want:
            hint = (
                "the new positions are not appended: return the concatenated cache"
                if seen[-1] <= seen[0]
                else "add exactly the new tokens' positions, once"
            )
            return CheckResult(
                name,
                False,
                f"after a prompt of {PROMPT} tokens and each one-token call the cache's {part} "
                f"should hold {', '.join(map(str, want))} positions; they hold "
                f"{', '.join(map(str, seen))}: {hint}",
            )
    for part in ("keys", "values"):
        key = f"decode.{part}"
        value = got.get(key, CACHE_SHAPE)
        if value is None or not judging.compare(value, expected[key], judging.FLOAT64).ok:
            why = (
                f"tensor {got.why(key)}"
                if value is None
                else "differ from what the tokens gave when new"
            )
            extra = "" if full_ok else " (see full_sequence)"
            return CheckResult(
                name,
                False,
                f"after decoding one token at a time, the cached {part} {why}{extra}: keep each "
                "position's keys and values as they were computed, and append the new ones",
            )
    return CheckResult(
        name, True, "the cache grows by one position per one-token call, past entries unchanged"
    )


def _no_recompute(
    got: Outputs, data: dict[str, torch.Tensor], weights: dict[str, torch.Tensor], decode_ok: bool
) -> CheckResult:
    name = "no_recompute"
    x, prompt = data["x"], REWEIGHT_PROMPT
    new = {**weights, **_weights(data, "w2.")}
    old_ref, new_ref = _reference(weights), _reference(new)
    with torch.no_grad():
        _, cache = old_ref(x[:, :prompt])
        expected, _ = new_ref(x[:, prompt : prompt + 1], cache)
        recomputed, _ = new_ref(x[:, : prompt + 1])
    what = (
        f"with new W_K and W_V weights loaded after a prompt of {prompt} tokens, the next "
        "token's output"
    )
    out = got.get("reweight.out", (BATCH, 1, D_MODEL))
    if out is None:
        return CheckResult(name, False, f"{what} {got.why('reweight.out')}")
    if judging.compare(out, expected, judging.FLOAT64).ok:
        return CheckResult(
            name, True, "cached keys and values are read back, never recomputed from past tokens"
        )
    if judging.compare(out, recomputed[:, -1:], judging.DIAGNOSIS).ok:
        return CheckResult(
            name,
            False,
            f"{what} used keys and values of the prompt made with the new weights: past keys "
            "are recomputed at every call; project only the new tokens and read the past from "
            "the cache",
        )
    if not decode_ok:
        return CheckResult(name, False, f"{what} differs too (see decode_matches_full)")
    return CheckResult(
        name,
        False,
        f"{what} differs from one that reads the prompt's keys and values from the cache",
    )


def _independent(got: Outputs, expected: dict[str, torch.Tensor], decode_ok: bool) -> CheckResult:
    name = "independent_caches"
    what = (
        f"two sequences with a prompt of {PAIR_PROMPT} tokens each, then one token each, "
        "decoded in turn with their own caches"
    )
    out = got.get("pair.out", (BATCH, 1, D_MODEL))
    if out is None:
        return CheckResult(name, False, f"{what}: the output {got.why('pair.out')}")
    want = expected["full.out"][:, PAIR_PROMPT : PAIR_PROMPT + 1]
    if judging.compare(out, want, judging.FLOAT64).ok:
        return CheckResult(name, True, "each sequence's cache is its own: no state in the module")
    if not decode_ok:
        return CheckResult(name, False, f"{what}: the outputs differ too (see decode_matches_full)")
    return CheckResult(
        name,
        False,
        f"{what}: the outputs differ from decoding each sequence alone, so the module keeps "
        "state of its own (a cache in self?): use only the cache passed in and return the new one",
    )
