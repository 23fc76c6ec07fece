"""Each lesson's mistaken-variant function, with no mistake applied, is its reference.

Diagnosis (judging.diagnose) first asks whether the learner's numbers match the variant
with no mistakes, then with one or two; a variant that drifted from the reference would
name the wrong mistake, or none, without any bank test failing loudly. In-process, small.
"""

from __future__ import annotations

import pytest
import torch
from lesson_harness import LESSONS, load_module

SEED = 11


def _checks(lesson: str):
    return load_module(LESSONS / lesson / "checks.py", "checks")


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_attention_mechanism_2_variant_is_the_reference() -> None:
    checks = _checks("attention-mechanism-2")
    data = checks.make_inputs("main", SEED)
    for case in (*checks.LABELS, *checks.CAUSAL, *checks.PADDING):
        args = checks._args(data, case.removesuffix(".out"))
        expected = checks.reference.masked_attention(*args)
        assert _close(checks._variant(*args, frozenset()), expected), case


def test_positional_encoding_3_variant_is_the_reference() -> None:
    checks = _checks("positional-encoding-3")
    data = checks.make_inputs("main", SEED)
    for case in checks.CASES:
        args = checks._args(data, case)
        assert _close(checks._variant(*args, frozenset()), checks.reference.apply_rope(*args))


@pytest.mark.parametrize("run", ["full", "decode", "chunk"])
def test_multi_head_attention_3_variant_is_the_reference(run: str) -> None:
    checks = _checks("multi-head-attention-3")
    data = checks.make_inputs("main", SEED)
    weights = checks._weights(data)
    expected, _ = checks._replay(checks._reference(weights), data["x"], checks.SPLITS[run])
    got = checks._variant(data["x"], weights, checks.SPLITS[run], frozenset())
    assert _close(got, expected)


def test_multi_head_attention_3_decodes_like_one_causal_call() -> None:
    checks = _checks("multi-head-attention-3")
    data = checks.make_inputs("main", SEED)
    ref = checks._reference(checks._weights(data))
    whole, _ = checks._replay(ref, data["x"], checks.SPLITS["full"])
    for run in ("decode", "chunk"):
        split, _ = checks._replay(ref, data["x"], checks.SPLITS[run])
        assert _close(split, whole), run


def test_transformer_2_variant_is_the_reference() -> None:
    checks = _checks("transformer-2")
    data = checks.make_inputs("main", SEED)
    block = checks._reference(data)
    for mask in (None, data["mask_causal"], data["mask_pad"]):
        with torch.no_grad():
            expected = block(data["x"], mask)
        assert _close(checks._variant(data, data["x"], mask, frozenset()), expected)
