"""Trusted checks for bert-architecture-2: masked-language-model inputs, by statistics.

The learner's random stream cannot be replayed here, so the checks are exact where the
procedure is deterministic and statistical where it is random, over 256 x 256 ids
(about 47,000 ordinary positions, 7,000 chosen):

- exact: the shapes and dtypes, input_ids untouched, labels -100 exactly where a position
  was not chosen and the original id where it was, unchosen positions unchanged, special
  positions never chosen, random replacements inside the vocabulary;
- statistical, within five standard deviations of a binomial count (a false failure
  about once in a million submissions): the chosen share of ordinary positions (0.15, and
  0.3 when asked), the 80 / 10 / 10 split of the chosen, and random replacements spread
  over the whole vocabulary (the input ids use only 5..199 of 1000, so tokens drawn from
  the batch or from the ids' range show);
- the generator: two calls with generators seeded alike agree although the global RNG
  was reseeded in between, and a differently seeded generator gives another result.
"""

from __future__ import annotations

import math

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Outputs, Results

PHASES = ("main",)
ENTRY = "mask_tokens"
BATCH, SEQ = 256, 256
PAD, CLS, SEP, MASK = 0, 1, 2, 3
VOCAB = 1000
FIRST_WORD, WORDS_END = 5, 200  # the inputs' ordinary ids: 5..199
MIN_LENGTH = 128
IGNORE = -100
P_CHOSEN, P_HIGH = 0.15, 0.3
SPLIT = {"masked": 0.8, "random": 0.1, "kept": 0.1}
SIGMAS = 5.0
CHECKS = (
    "interface",
    "output_shape",
    "input_unchanged",
    "labels",
    "special_tokens",
    "selection_rate",
    "replacement_split",
    "random_tokens",
    "generator",
)
INTERFACE = judging.define(
    f"{ENTRY}(input_ids, mask_token_id, vocab_size, special_tokens_mask, generator, "
    "mlm_probability=0.15) returning (inputs, labels)"
)
SPLIT_HOW = (
    "of the chosen positions 80% become mask_token_id, 10% a random token and 10% stay: "
    "masked = bernoulli(0.8) & chosen, then random = bernoulli(0.5) & chosen & ~masked"
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    """Sentences of 128..256 ids: [CLS] words [SEP] then padding; the seeds for the calls."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(FIRST_WORD, WORDS_END, (BATCH, SEQ), generator=generator)
    lengths = torch.randint(MIN_LENGTH, SEQ + 1, (BATCH,), generator=generator)
    position = torch.arange(SEQ)[None, :]
    ids[:, 0] = CLS
    ids[position == (lengths[:, None] - 1)] = SEP
    ids[position >= lengths[:, None]] = PAD
    special = (ids == CLS) | (ids == SEP) | (ids == PAD)
    seeds = torch.randint(1 << 62, (5,), generator=generator)
    return {
        "ids": ids,
        "special": special,
        "config": torch.tensor([MASK, VOCAB]),
        "seeds": seeds,
    }


def _ints(got: Outputs, name: str) -> torch.Tensor | None:
    """An integer output of shape (BATCH, SEQ) as int64, or None (``got.why`` explains)."""
    value = got.outputs.get(name)
    if (
        isinstance(value, torch.Tensor)
        and tuple(value.shape) == (BATCH, SEQ)
        and not (value.is_floating_point() or value.is_complex())
    ):
        return value.to(torch.int64)
    return None


def _within(count: int, n: int, p: float) -> bool:
    """``count`` of ``n`` is within SIGMAS binomial standard deviations of ``p`` (plus slack
    for the ids that a random draw happens to give back unchanged)."""
    return n > 0 and abs(count / n - p) <= SIGMAS * math.sqrt(p * (1 - p) / n) + 0.002


def _bound(n: int, p: float) -> str:
    return f"{p:.0%} ± {SIGMAS * math.sqrt(p * (1 - p) / max(n, 1)) + 0.002:.1%}"


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    ids, special = data["ids"], data["special"]
    out, labels = _ints(got, "main.inputs"), _ints(got, "main.labels")
    shape = _output_shape(got)
    if out is None or labels is None:
        reason = "the call returned no (inputs, labels) pair to judge (see output_shape)"
        return [
            CheckResult("interface", True, f"{ENTRY} is defined"),
            shape,
            *judging.skip_all(CHECKS[2:], reason),
        ]
    chosen = labels != IGNORE
    return [
        CheckResult("interface", True, f"{ENTRY} is defined"),
        shape,
        _unchanged(got),
        _labels(ids, out, labels, chosen),
        _special(special, out, ids, chosen),
        _selection(got, special, chosen),
        _split(ids, out, chosen),
        _random(ids, out, chosen),
        _generator(got),
    ]


def _output_shape(got: Outputs) -> CheckResult:
    name = "output_shape"
    if _ints(got, "main.inputs") is None or _ints(got, "main.labels") is None:
        note = got.note("main")
        return CheckResult(
            name,
            False,
            f"{ENTRY}(...) on ({BATCH}, {SEQ}) ids: "
            + (note if note else "no integer (inputs, labels) of that shape came back"),
        )
    dtypes = (got.note("main.dtype") or "").split(",")
    if dtypes != ["torch.int64", "torch.int64"]:
        return CheckResult(
            name,
            False,
            f"inputs and labels are {' and '.join(dtypes)}; keep the dtype of input_ids, "
            "torch.int64 (embeddings and F.cross_entropy take long ids)",
        )
    return CheckResult(name, True, f"inputs and labels are int64 of shape ({BATCH}, {SEQ})")


def _unchanged(got: Outputs) -> CheckResult:
    same = got.outputs.get("main.unchanged")
    if not isinstance(same, torch.Tensor) or not bool(same):
        return CheckResult(
            "input_unchanged",
            False,
            "input_ids was modified in place: clone it (inputs = input_ids.clone()) before "
            "replacing tokens; the caller's batch must stay as it was",
        )
    return CheckResult("input_unchanged", True, "input_ids is left as it was")


def _labels(
    ids: torch.Tensor, out: torch.Tensor, labels: torch.Tensor, chosen: torch.Tensor
) -> CheckResult:
    name = "labels"
    if bool((labels == ids).all()):
        return CheckResult(
            name,
            False,
            "labels are the original ids everywhere: set them to -100 where a position was "
            "not chosen, so the loss ignores those positions",
        )
    wrong = chosen & (labels != ids)
    if bool(wrong.any()):
        if bool((labels[wrong] == out[wrong]).all()):
            return CheckResult(
                name,
                False,
                f"at {int(wrong.sum())} chosen positions the labels hold the corrupted inputs "
                "(mask_token_id or the random token); labels must be the original ids: "
                "labels = input_ids.clone() before any replacement",
            )
        return CheckResult(
            name,
            False,
            f"at {int(wrong.sum())} chosen positions the label is neither -100 nor the original "
            "id: labels are the original id where chosen, -100 elsewhere",
        )
    changed = ~chosen & (out != ids)
    if bool(changed.any()):
        return CheckResult(
            name,
            False,
            f"{int(changed.sum())} positions were replaced but have the label -100: only chosen "
            "positions may change; draw the 80/10/10 split among the chosen positions only",
        )
    return CheckResult(
        name,
        True,
        "labels are the original id where chosen and -100 elsewhere; nothing else changed",
    )


def _special(
    special: torch.Tensor, out: torch.Tensor, ids: torch.Tensor, chosen: torch.Tensor
) -> CheckResult:
    touched = special & (chosen | (out != ids))
    if bool(touched.any()):
        return CheckResult(
            "special_tokens",
            False,
            f"{int(touched.sum())} special positions ([CLS], [SEP], padding) were chosen or "
            "changed: give them probability 0 with special_tokens_mask before drawing",
        )
    return CheckResult("special_tokens", True, "[CLS], [SEP] and padding are never chosen")


def _selection(got: Outputs, special: torch.Tensor, chosen: torch.Tensor) -> CheckResult:
    name = "selection_rate"
    ordinary = ~special
    n = int(ordinary.sum())
    count = int((chosen & ordinary).sum())
    if not _within(count, n, P_CHOSEN):
        return CheckResult(
            name,
            False,
            f"{count / n:.1%} of the {n} ordinary positions were chosen (labels != -100); "
            f"expected {_bound(n, P_CHOSEN)}: choose each non-special position with "
            "probability mlm_probability",
        )
    high = got.outputs.get("p30.chosen")
    if not isinstance(high, torch.Tensor) or tuple(high.shape) != (BATCH, SEQ):
        return CheckResult(
            name, False, f"the call with mlm_probability=0.3: {got.note('p30') or 'no result'}"
        )
    count_high = int((high.bool() & ordinary).sum())
    if not _within(count_high, n, P_HIGH):
        ignored = " mlm_probability is ignored" if _within(count_high, n, P_CHOSEN) else ""
        return CheckResult(
            name,
            False,
            f"with mlm_probability=0.3, {count_high / n:.1%} of the ordinary positions were "
            f"chosen; expected {_bound(n, P_HIGH)}:{ignored or ' the rate must follow it'}",
        )
    return CheckResult(
        name,
        True,
        f"{count / n:.1%} of {n} ordinary positions chosen (0.15), "
        f"{count_high / n:.1%} with mlm_probability=0.3",
    )


def _shares(ids: torch.Tensor, out: torch.Tensor, chosen: torch.Tensor) -> dict[str, int]:
    masked = chosen & (out == MASK)
    kept = chosen & (out == ids)
    return {
        "masked": int(masked.sum()),
        "random": int((chosen & ~masked & ~kept).sum()),
        "kept": int(kept.sum()),
    }


def _split(ids: torch.Tensor, out: torch.Tensor, chosen: torch.Tensor) -> CheckResult:
    name = "replacement_split"
    n = int(chosen.sum())
    shares = _shares(ids, out, chosen)
    if n == 0:
        return CheckResult(name, False, "no position was chosen, so nothing was replaced")
    seen = ", ".join(f"{shares[k] / n:.1%} {k}" for k in SPLIT)
    if all(_within(shares[k], n, p) for k, p in SPLIT.items()):
        return CheckResult(name, True, f"of {n} chosen positions: {seen} (80/10/10)")
    if shares["masked"] == n:
        return CheckResult(name, False, f"every chosen position became mask_token_id: {SPLIT_HOW}")
    if _within(shares["random"], n, 0.02):
        hint = (
            "the random share looks drawn with probability 0.1 among the 20% not masked; "
            "there it is 0.5 (half of them)"
        )
    elif _within(shares["masked"], n, 0.72):
        hint = (
            "the random replacement overwrites masked positions; draw it among "
            "chosen & ~masked only"
        )
    else:
        hint = SPLIT_HOW
    return CheckResult(
        name,
        False,
        f"of {n} chosen positions: {seen}; expected 80% masked, 10% random, 10% kept "
        f"(within about ±{SIGMAS * math.sqrt(0.09 / n) + 0.002:.1%}): {hint}",
    )


def _random(ids: torch.Tensor, out: torch.Tensor, chosen: torch.Tensor) -> CheckResult:
    name = "random_tokens"
    replaced = chosen & (out != MASK) & (out != ids)
    values = out[replaced]
    if values.numel() == 0:
        return judging.skipped(
            name, "no chosen position got a random token (see replacement_split)"
        )
    outside = (values < 0) | (values >= VOCAB)
    if bool(outside.any()):
        return CheckResult(
            name,
            False,
            f"{int(outside.sum())} random replacements lie outside the vocabulary [0, {VOCAB}) "
            f"(from {int(values.min())} to {int(values.max())}): torch.randint(vocab_size, ...)",
        )
    n = values.numel()
    high = int((values >= WORDS_END).sum())
    p = (VOCAB - WORDS_END) / VOCAB
    if not _within(high, n, p):
        return CheckResult(
            name,
            False,
            f"random replacements lie in {int(values.min())}..{int(values.max())}, "
            f"{high / n:.0%} of them at or above {WORDS_END} (expected about {p:.0%}): they are "
            f"not drawn uniformly from the vocabulary of {VOCAB}; use "
            "torch.randint(vocab_size, shape, generator=generator), not ids from the batch",
        )
    return CheckResult(
        name, True, f"{n} random replacements spread over the vocabulary [0, {VOCAB})"
    )


def _generator(got: Outputs) -> CheckResult:
    name = "generator"
    again, other = got.outputs.get("again.same"), got.outputs.get("other.same")
    if not isinstance(again, torch.Tensor) or not isinstance(other, torch.Tensor):
        missing = "again" if not isinstance(again, torch.Tensor) else "other"
        return CheckResult(
            name, False, f"a second call raised: {got.note(missing) or 'it returned nothing'}"
        )
    if not bool(again):
        return CheckResult(
            name,
            False,
            "two calls with generators seeded alike gave different results (the global RNG "
            "was reseeded in between): draw every random number from generator, e.g. "
            "torch.bernoulli(p, generator=generator) and torch.randint(..., generator=generator)",
        )
    if bool(other):
        return CheckResult(
            name,
            False,
            "generators with different seeds gave the same result: the randomness must come "
            "from generator, not from a seed of your own",
        )
    return CheckResult(
        name, True, "the result follows the generator: same seed, same masks; new seed, new ones"
    )
