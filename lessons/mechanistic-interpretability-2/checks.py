"""Trusted checks for mechanistic-interpretability-2: induction and previous-token scores.

Two cases: the attention patterns of reference.py's planted two-layer attention-only
model on 20 random distinct tokens repeated twice (2 layers x 4 heads x 40 x 40; the
heads' places drawn from the seed), and random causal patterns of another size (3 x 2,
first_len 7), so a score that only happens to work on one shape fails. Scores are
compared in float64, then in float32 on the device. On disagreement ``_variant``
recomputes them with the usual mistakes (the earlier occurrence itself instead of the
token after it, the diagonal one further, rows from the first half included, query and
key swapped, sums instead of means; the main diagonal or the one above for the previous
token, position 0 counted) and names the match. The planted heads must rank first;
when another head does, the message says what that head attends to.
"""

from __future__ import annotations

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY, SECOND = "induction_scores", "previous_token_scores"
VOCAB, FIRST_LEN, LAYERS, HEADS = 50, 20, 2, 4
RANDOM = (3, 2, 7)  # layers, heads, first_len of the random patterns
CHECKS = (
    "interface",
    "output_shape",
    "induction_numbers",
    "previous_token_numbers",
    "planted_heads",
    "numbers_float32",
)
INTERFACE = judging.define(
    f"{ENTRY}(patterns, first_len) and {SECOND}(patterns), each returning (layers, heads)"
)
CASES = {
    "model": f"the planted model's patterns ({LAYERS} layers, {HEADS} heads, "
    f"first_len {FIRST_LEN})",
    "random": f"random causal patterns ({RANDOM[0]} layers, {RANDOM[1]} heads, first_len "
    f"{RANDOM[2]})",
}
TARGET = "i - first_len + 1"
INDUCTION_MISTAKES = (
    Mistake(
        "earlier_occurrence",
        f"the scores read the attention to the earlier occurrence itself (i - first_len), "
        f"which is what a duplicate-token head does; an induction head attends to the token "
        f"right after it: key {TARGET}",
        "target",
    ),
    Mistake(
        "two_after",
        f"the scores read key i - first_len + 2, one past the induction target; the token "
        f"right after the earlier occurrence is {TARGET}",
        "target",
    ),
    Mistake(
        "swapped",
        "query and key are swapped: patterns are indexed [layer, head, query, key], so the "
        f"attention from query i to key j is patterns[..., i, j] (with j = {TARGET})",
        "target",
    ),
    Mistake(
        "from_first_half",
        "the mean includes query first_len - 1, the last position of the first half (the "
        "whole diagonal at offset 1 - first_len); average over the queries of the second half, "
        "i = first_len .. 2 first_len - 1",
        "rows",
    ),
    Mistake(
        "over_seq",
        "the sum over the second half is divided by the whole sequence length; average over "
        "its first_len queries",
        "rows",
    ),
    Mistake("summed", "the attention is summed over the queries; take the mean", "rows"),
)
PREVIOUS_MISTAKES = (
    Mistake(
        "self",
        "the scores read the main diagonal (each token's attention to itself); the previous "
        "token is the diagonal below it: patterns.diagonal(offset=-1, dim1=-2, dim2=-1)",
        "offset",
    ),
    Mistake(
        "next",
        "the scores read the diagonal above the main one (attention to the next token, which "
        "a causal model never gives, or query and key swapped); the previous token is offset "
        "-1: patterns.diagonal(offset=-1, dim1=-2, dim2=-1)",
        "offset",
    ),
    Mistake(
        "with_first",
        "the mean includes position 0, which has no previous token (torch.roll wraps it to "
        "the last key): average over positions 1 .. seq - 1",
        "rows",
    ),
    Mistake("summed", "the attention is summed over the positions; take the mean", "rows"),
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    model = reference.planted_model(VOCAB, 2 * FIRST_LEN, HEADS, generator)
    first = torch.randperm(VOCAB, generator=generator)[:FIRST_LEN]
    patterns = reference.attention_patterns(model, torch.cat([first, first]))
    layers, heads, first_len = RANDOM
    seq = 2 * first_len
    scores = torch.randn(layers, heads, seq, seq, generator=generator, dtype=torch.float64) * 2
    future = torch.ones(seq, seq, dtype=torch.bool).triu(1)
    random_patterns = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
    return {
        "model.patterns": patterns,
        "model.first_len": torch.tensor(FIRST_LEN),
        "random.patterns": random_patterns,
        "random.first_len": torch.tensor(first_len),
    }


def _stripe(patterns: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    return patterns[..., rows, cols]


def _induction(patterns: torch.Tensor, n: int, mistakes: frozenset[str]) -> torch.Tensor:
    first = n - 1 if "from_first_half" in mistakes else n
    rows = torch.arange(first, 2 * n)
    shift = {"earlier_occurrence": 0, "two_after": 2}
    offset = next((shift[m] for m in mistakes if m in shift), 1)
    cols = rows - n + offset
    if cols.max() >= patterns.shape[-1] or cols.min() < 0:
        raise IndexError("the stripe leaves the pattern")
    values = _stripe(patterns.transpose(-2, -1) if "swapped" in mistakes else patterns, rows, cols)
    if "summed" in mistakes:
        return values.sum(-1)
    if "over_seq" in mistakes:
        return values.sum(-1) / (2 * n)
    return values.mean(-1)


def _previous(patterns: torch.Tensor, mistakes: frozenset[str]) -> torch.Tensor:
    offset = 0 if "self" in mistakes else (1 if "next" in mistakes else -1)
    values = patterns.diagonal(offset=offset, dim1=-2, dim2=-1)
    if "summed" in mistakes:
        return values.sum(-1)
    if "with_first" in mistakes:
        return values.sum(-1) / patterns.shape[-1]
    return values.mean(-1)


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    cases = {c: (data[f"{c}.patterns"], int(data[f"{c}.first_len"])) for c in CASES}
    expected = {}
    for case, (patterns, n) in cases.items():
        expected[f"{case}.induction"] = reference.induction_scores(patterns, n)
        expected[f"{case}.previous"] = reference.previous_token_scores(patterns)
    actual = got.like(expected)
    induction_labels = {f"{c}.induction": label for c, label in CASES.items()}
    previous_labels = {f"{c}.previous": label for c, label in CASES.items()}
    induction_ok = judging.agree(actual, expected, induction_labels)
    previous_ok = judging.agree(actual, expected, previous_labels)

    def induction_variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {f"{c}.induction": _induction(p, n, mistakes) for c, (p, n) in cases.items()}

    def previous_variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {f"{c}.previous": _previous(p, mistakes) for c, (p, _) in cases.items()}

    def only(labels: dict[str, str]) -> dict[str, torch.Tensor]:
        return {key: value for key, value in actual.items() if key in labels}

    return [
        CheckResult("interface", True, f"{ENTRY} and {SECOND} are defined"),
        _output_shape(got, expected),
        judging.numbers_check(
            got,
            actual,
            expected,
            induction_labels,
            name="induction_numbers",
            found=None
            if induction_ok
            else judging.diagnose(only(induction_labels), induction_variant, INDUCTION_MISTAKES),
            passed="induction scores match the reference on both cases",
            advice=f"average patterns[..., i, {TARGET}] over the second half, i = first_len .. "
            "2 first_len - 1",
        ),
        judging.numbers_check(
            got,
            actual,
            expected,
            previous_labels,
            name="previous_token_numbers",
            found=None
            if previous_ok
            else judging.diagnose(only(previous_labels), previous_variant, PREVIOUS_MISTAKES),
            passed="previous-token scores match the reference on both cases",
            advice="average patterns[..., i, i - 1] over i = 1 .. seq - 1",
        ),
        _planted(got, cases["model"]),
        judging.float32_check(
            got,
            expected,
            {**induction_labels, **previous_labels},
            device,
            numbers_ok=induction_ok and previous_ok,
            prefix="f32.",
            missing_hint="index tensors made inside must follow the patterns: "
            "device=patterns.device",
        ),
    ]


def _output_shape(got: Outputs, expected: dict[str, torch.Tensor]) -> CheckResult:
    for key, want in expected.items():
        if got.get(key, tuple(want.shape)) is None:
            case, which = key.split(".")
            call = (
                f"{ENTRY}(patterns, first_len)" if which == "induction" else f"{SECOND}(patterns)"
            )
            return CheckResult(
                "output_shape",
                False,
                f"{call} on {CASES[case]}: the result {got.why(key)} (layers, heads)",
            )
    return CheckResult("output_shape", True, "both return one score per (layer, head)")


def _name(flat: int) -> str:
    return f"L{flat // HEADS}H{flat % HEADS}"


def _profile(patterns: torch.Tensor, n: int) -> dict[str, torch.Tensor]:
    """What each head of the planted model does, as scores (layers * heads,)."""
    rows = torch.arange(n, 2 * n)
    return {
        "attends to the token right after the earlier occurrence (the induction target)": (
            _stripe(patterns, rows, rows - n + 1).mean(-1).flatten()
        ),
        "attends to the earlier occurrence of the current token itself (a duplicate-token head)": (
            _stripe(patterns, rows, rows - n).mean(-1).flatten()
        ),
        "attends to the previous token": _previous(patterns, frozenset()).flatten(),
        "attends to itself": patterns.diagonal(dim1=-2, dim2=-1).mean(-1).flatten(),
    }


def _describe(patterns: torch.Tensor, n: int, flat: int) -> str:
    profile = _profile(patterns, n)
    what, score = max(((w, float(s[flat])) for w, s in profile.items()), key=lambda ws: ws[1])
    return what if score > 0.5 else "spreads its attention with no planted pattern"


def _planted(got: Outputs, case: tuple[torch.Tensor, int]) -> CheckResult:
    name = "planted_heads"
    patterns, n = case
    problems = []
    for key, kind, truth in (
        ("model.induction", "induction", reference.induction_scores(patterns, n)),
        ("model.previous", "previous-token", reference.previous_token_scores(patterns)),
    ):
        scores = got.get(key, (LAYERS, HEADS))
        if scores is None:
            return CheckResult(
                name, False, f"no {kind} scores for the planted model: they {got.why(key)}"
            )
        planted, top = int(truth.argmax()), int(scores.flatten().argmax())
        if float(scores.max() - scores.min()) <= 1e-12:
            problems.append(
                f"your {kind} scores are {float(scores.max()):.3g} for every head, so none "
                f"ranks first; the planted {kind} head is {_name(planted)}"
            )
        elif top != planted:
            problems.append(
                f"your {kind} scores rank {_name(top)} first ({float(scores.flatten()[top]):.3g}), "
                f"but the planted {kind} head is {_name(planted)} "
                f"({float(scores.flatten()[planted]):.3g} in yours): {_name(top)} "
                f"{_describe(patterns, n, top)}"
            )
    if problems:
        return CheckResult(name, False, "; ".join(problems))
    truth_i = reference.induction_scores(patterns, n)
    truth_p = reference.previous_token_scores(patterns)
    return CheckResult(
        name,
        True,
        f"the planted induction head {_name(int(truth_i.argmax()))} and previous-token head "
        f"{_name(int(truth_p.argmax()))} rank first",
    )
