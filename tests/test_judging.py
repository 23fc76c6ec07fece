"""The judging toolkit (trusted side): the judge's opening, skipped checks, the mistaken
attention variants, the standard checks and their messages, and forbidden-call verdicts.

In-process and quick; the lessons' own banks (test_lesson_checks.py) exercise the same
functions end to end.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from tracker.validation import forbidden, judging
from tracker.validation.judging import CheckResult, Mistake, Outputs, PhaseResult

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ("interface", "output_shape", "numbers_float64")
INTERFACE = judging.define("f(x) returning the output")


def result(outputs: dict | None = None, notes: dict | None = None, error: str | None = None):
    return {"main": PhaseResult(outputs=outputs or {}, notes=notes or {}, error=error)}


# --- the opening ---------------------------------------------------------------------------


def test_an_error_skips_every_check_and_leaves_the_error_to_the_verdict() -> None:
    got, early = judging.opening(
        result(error="SyntaxError: invalid syntax (line 3)"), CHECKS, INTERFACE
    )
    assert got.error == "SyntaxError: invalid syntax (line 3)"
    assert early == [
        CheckResult(name, False, "the submission did not run to the end (see the error)", True)
        for name in CHECKS
    ]
    assert all("SyntaxError" not in check.message for check in early)


def test_a_construct_note_fails_the_interface_and_skips_the_rest() -> None:
    _, early = judging.opening(
        result(notes={"construct": "the file defines no function f"}), CHECKS, INTERFACE
    )
    assert early == [
        CheckResult(
            "interface", False, "the file defines no function f: define f(x) returning the output"
        ),
        CheckResult("output_shape", False, "the interface check failed", skipped=True),
        CheckResult("numbers_float64", False, "the interface check failed", skipped=True),
    ]


def test_a_construct_note_under_another_key_counts_when_named() -> None:
    results = result(notes={"gqa.construct": "TypeError: bad"})
    assert judging.opening(results, CHECKS, INTERFACE)[1] is None
    _, early = judging.opening(results, CHECKS, INTERFACE, construct=("construct", "gqa.construct"))
    assert early is not None and early[0].message.startswith("TypeError: bad: define")


def test_judged_runs_the_body_only_when_there_is_something_to_judge() -> None:
    calls = []

    @judging.judged(CHECKS, INTERFACE)
    def judge(got: Outputs, inputs: judging.Inputs, results: judging.Results, device: str):
        calls.append(device)
        return [CheckResult(name, True, "fine") for name in CHECKS]

    assert all(c.skipped for c in judge({}, result(error="timed out after 5 s"), "cpu"))
    assert calls == []
    assert all(c.passed for c in judge({}, result(), "cpu")) and calls == ["cpu"]


def test_a_skipped_check_is_not_passed_and_says_so_in_json() -> None:
    check = judging.skipped("memory", "the interface check failed")
    assert not check.passed
    assert check.as_dict() == {
        "name": "memory",
        "passed": False,
        "message": "the interface check failed",
        "skipped": True,
    }
    assert CheckResult("x", True, "ok").as_dict()["skipped"] is False


# --- attention with mistakes ---------------------------------------------------------------


def _qkv(*lead: int, seq_q: int = 5, seq_k: int = 7, d: int = 8, d_v: int = 8):
    randn = judging.normal(3)
    return randn(*lead, seq_q, d), randn(*lead, seq_k, d), randn(*lead, seq_k, d_v)


@pytest.mark.parametrize("lead", [(2,), (2, 3)])
def test_attention_without_mistakes_is_scaled_dot_product_attention(lead: tuple) -> None:
    q, k, v = _qkv(*lead)
    mask = judging.padding_mask(7, slice(-2, None), [0, 3])
    if len(lead) == 1:
        mask = mask[:, 0]
    out, weights = judging.attention(q, k, v, mask)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    assert torch.allclose(weights.sum(-1), torch.ones((), dtype=torch.float64), atol=1e-12)
    q, k, v = _qkv(*lead, seq_k=5)
    causal, _ = judging.attention(q, k, v, causal=True)
    assert torch.allclose(causal, F.scaled_dot_product_attention(q, k, v, is_causal=True))


ATTENTION_MISTAKES = [
    "no_scale",
    "scale_dk",
    "scale_seq",
    "scale_dv",
    "scale_dmodel",
    "softmax_queries",
    "softmax_heads",
    "softmax_batch",
    "kv_swapped",
    *judging.MASK_MISTAKES,
]


@pytest.mark.parametrize("mistake", ATTENTION_MISTAKES)
def test_every_attention_mistake_changes_the_numbers(mistake: str) -> None:
    # Swapping keys and values needs equal widths; scaling by sqrt(d_v) needs unequal ones.
    q, k, v = _qkv(2, 3, d=16, d_v=16 if mistake == "kv_swapped" else 12)
    mask = judging.padding_mask(7, slice(-2, None), [0, 3])
    right, _ = judging.attention(q, k, v, mask, d_model=64)
    wrong, _ = judging.attention(q, k, v, mask, mistakes={mistake}, d_model=64)
    assert not torch.allclose(right, wrong)


@pytest.mark.parametrize(
    ("mistake", "hidden"),
    [
        (frozenset(), [[False, True, True], [False, False, True], [False, False, False]]),
        (
            {"causal_excludes_diagonal"},
            [[True, True, True], [False, True, True], [False, False, True]],
        ),
        (
            {"causal_one_ahead"},
            [[False, False, True], [False, False, False], [False, False, False]],
        ),
    ],
)
def test_causal_hidden(mistake: frozenset, hidden: list) -> None:
    rows, cols = torch.arange(3)[:, None], torch.arange(3)[None, :]
    assert judging.causal_hidden(rows, cols, mistake).tolist() == hidden


def test_scale_dmodel_needs_d_model_and_kv_swapped_needs_equal_widths() -> None:
    q, k, v = _qkv(2, d_v=12)
    with pytest.raises(ValueError, match="scale_dmodel needs d_model"):
        judging.attention(q, k, v, mistakes={"scale_dmodel"})
    with pytest.raises(RuntimeError):
        judging.attention(q, k, v, mistakes={"kv_swapped"})
    assert judging.scale_of(q, k, v, {"scale_seq"}) == math.sqrt(7)


def test_heads_split_and_merge_back_and_the_plain_view_mixes_them() -> None:
    x = judging.normal(1)(2, 5, 12)
    heads = judging.split_heads(x, 3)
    assert heads.shape == (2, 3, 5, 4)
    assert torch.equal(heads[:, 1, 2], x[:, 2, 4:8])
    assert torch.equal(judging.merge_heads(heads), x)
    assert not torch.equal(judging.split_heads(x, 3, plain_view=True), heads)
    assert not torch.equal(judging.merge_heads(heads, plain_view=True), x)


def test_diagnosis_names_the_mistake_whose_numbers_match() -> None:
    q, k, v = _qkv(2)
    actual = {"out": judging.attention(q, k, v, mistakes={"no_scale"})[0]}
    mistakes = (Mistake("no_scale", "unscaled", "scale"), Mistake("kv_swapped", "swapped", "kv"))

    def variant(ids: frozenset[str]) -> dict[str, torch.Tensor]:
        return {"out": judging.attention(q, k, v, mistakes=ids)[0]}

    assert judging.diagnose(actual, variant, mistakes) == (mistakes[0],)
    assert judging.diagnose({"out": judging.attention(q, k, v)[0]}, variant, mistakes) == ()


def test_mask_mistakes_by_default_are_the_common_five() -> None:
    assert [m.id for m in judging.mask_mistakes()] == list(judging.COMMON_MASK_MISTAKES)
    assert [m.id for m in judging.mask_mistakes("mask_own_causal")] == ["mask_own_causal"]
    assert {m.group for m in judging.MASK_MISTAKES.values()} == {"mask"}
    with pytest.raises(KeyError):
        judging.mask_mistakes("mask_upside_down")


def test_inputs_replay_from_a_seed() -> None:
    assert torch.equal(judging.normal(5)(3, 4), judging.normal(5)(3, 4))
    assert not torch.equal(judging.normal(5)(3, 4), judging.normal(6)(3, 4))
    assert torch.equal(judging.normal(5)(2, scale=3.0), judging.normal(5)(2) * 3.0)
    assert judging.padding_mask(4, slice(-1, None), [0, 2]).reshape(2, 4).tolist() == [
        [True, True, True, False],
        [False, True, False, True],
    ]


# --- standard checks -----------------------------------------------------------------------

LABELS = {"a.out": "3-D inputs", "b.out": "4-D inputs"}


def _expected() -> dict[str, torch.Tensor]:
    return {
        "a.out": torch.zeros(2, 3, dtype=torch.float64),
        "b.out": torch.ones(2, 3, dtype=torch.float64),
    }


def _numbers(actual: dict, found: tuple = ()) -> CheckResult:
    got = Outputs(PhaseResult(outputs=actual, notes={"b": "RuntimeError: shape"}))
    seen = {k: got.get(k, (2, 3)) for k in actual if got.get(k, (2, 3)) is not None}
    return judging.numbers_check(
        got, seen, _expected(), LABELS, found=found, passed="all good", advice="check the scale"
    )


def test_numbers_check_messages() -> None:
    expected = _expected()
    assert _numbers(dict(expected)) == CheckResult("numbers_float64", True, "all good")
    assert _numbers({"a.out": expected["a.out"]}).message == (
        "4-D inputs: no output to compare: it raised RuntimeError: shape"
    )
    off = {"a.out": expected["a.out"] + 0.5, "b.out": expected["b.out"]}
    assert _numbers(off).message == (
        "output differs from the reference (3-D inputs: output max |difference| 0.5 at "
        "index [0, 0]); check the scale"
    )
    found = (Mistake("no_scale", "scores look unscaled"),)
    assert _numbers(off, found).message == (
        "scores look unscaled (3-D inputs: output max |difference| 0.5 at index [0, 0])"
    )


def test_a_scalar_difference_names_no_index() -> None:
    # A loss is one number: "at index []" would point at nothing.
    scalar = judging.compare(torch.tensor(1.5), torch.tensor(1.0), judging.FLOAT64)
    assert not scalar.ok and scalar.describe() == "|difference| 0.5"
    vector = judging.compare(torch.tensor([1.0, 1.5]), torch.tensor([1.0, 1.0]), judging.FLOAT64)
    assert vector.describe() == "max |difference| 0.5 at index [1]"


def test_float32_check_messages() -> None:
    expected = {"a.out": torch.zeros(2, 3, dtype=torch.float64)}
    labels = {"a.out": "self-attention"}

    def check(outputs: dict, numbers_ok: bool = True) -> str:
        got = Outputs(PhaseResult(outputs=outputs, notes={"f32.a": "RuntimeError: dtype"}))
        return judging.float32_check(
            got,
            expected,
            labels,
            "cpu",
            numbers_ok=numbers_ok,
            prefix="f32.",
            missing_hint="follow the input",
        ).message

    assert check({"f32.a.out": torch.zeros(2, 3)}) == (
        "float32 on cpu agrees with the reference (rtol 0.0001, atol 2e-05)"
    )
    assert (
        check({})
        == "in float32 on cpu, self-attention: raised RuntimeError: dtype: follow the input"
    )
    off = {"f32.a.out": torch.full((2, 3), 0.01)}
    assert check(off) == (
        "float64 agrees but float32 on cpu does not (self-attention: max |difference| 0.01 at "
        "index [0, 0], tolerance rtol 0.0001, atol 2e-05): something depends on the dtype"
    )
    assert check(off, numbers_ok=False).endswith("; see numbers_float64")
    got = Outputs(PhaseResult(outputs=off))
    named = judging.float32_check(
        got, expected, labels, "cpu", numbers_ok=False, prefix="f32.", numbers_name="full_sequence"
    )
    assert named.message.endswith("; see full_sequence")


def test_finite_check_messages() -> None:
    def check(value: torch.Tensor | None, expected: torch.Tensor | None = None) -> CheckResult:
        got = Outputs(PhaseResult(outputs={} if value is None else {"big": value}))
        return judging.finite_check(
            got,
            "big",
            (2,),
            scaled="inputs scaled by 30",
            nan_advice="subtract the max",
            expected=expected,
            wrong_advice="do not clamp",
        )

    assert check(torch.tensor([math.nan, 0.0])).message == (
        "inputs scaled by 30 give NaN or inf in float32: subtract the max"
    )
    assert check(torch.zeros(2)) == CheckResult(
        "finite_large_inputs", True, "inputs scaled by 30: float32 outputs are finite"
    )
    assert check(torch.zeros(2), torch.ones(2, dtype=torch.float64)).message == (
        "inputs scaled by 30: finite but wrong (max |difference| 1 at index [0]): do not clamp"
    )
    assert check(None).message == "inputs scaled by 30: the float32 output returned nothing"


def test_masking_check_messages() -> None:
    masks = {"m.out": "a 0/1 causal mask of shape (6, 6)"}
    expected = {"m.out": torch.zeros(3, dtype=torch.float64)}

    def check(actual: dict, *, numbers_ok: bool = True, found: tuple = ()) -> str:
        got = Outputs(PhaseResult(notes={"m": "RuntimeError: broadcast"}))
        return judging.masking_check(
            got,
            actual,
            expected,
            masks,
            numbers_ok=numbers_ok,
            found=found,
            passed="masks work",
            accept="accept 0/1 and bool masks",
        ).message

    off = {"m.out": torch.ones(3, dtype=torch.float64)}
    where = "with a 0/1 causal mask of shape (6, 6): output max |difference| 1 at index [0]"
    assert check(dict(expected)) == "masks work"
    assert check({}) == (
        "with a 0/1 causal mask of shape (6, 6) the output raised RuntimeError: broadcast: "
        "accept 0/1 and bool masks"
    )
    assert check(off) == (
        f"unmasked outputs agree but masked ones differ ({where}): positions where mask == 0 "
        "must get -inf before the softmax"
    )
    assert check(off, numbers_ok=False) == (
        f"masked outputs differ too ({where}); fix numbers_float64 first"
    )
    assert check(off, found=(Mistake("mask_inverted", "the mask is inverted"),)) == (
        f"the mask is inverted ({where})"
    )


# --- forbidden calls: declarations and verdicts --------------------------------------------


@pytest.mark.parametrize(
    ("exercise", "problems"),
    [
        ({"forbidden_calls": ["torch.nn.functional.softmax"], "forbidden_advice": "do it"}, []),
        ({}, []),
        (
            {"forbidden_advice": "do it"},
            ["exercise.forbidden_advice needs exercise.forbidden_calls"],
        ),
        (
            {"forbidden_calls": "torch.exp", "forbidden_advice": "x"},
            ["exercise.forbidden_calls must be a non-empty list of names"],
        ),
        (
            {"forbidden_calls": [], "forbidden_advice": "x"},
            ["exercise.forbidden_calls must be a non-empty list of names"],
        ),
        (
            {"forbidden_calls": ["numpy.einsum", "aten::_flash_*"], "forbidden_advice": "x"},
            [
                "exercise.forbidden_calls: 'numpy.einsum' is neither a dotted name under torch "
                "(torch.nn.functional.scaled_dot_product_attention) nor an aten:: pattern "
                "(aten::_flash_attention*)"
            ],
        ),
        (
            {"forbidden_calls": ["torch.exp", "torch.exp"], "forbidden_advice": " "},
            [
                "exercise.forbidden_calls names a call twice",
                "exercise.forbidden_advice must say what the lesson asks for instead of the "
                "forbidden calls",
            ],
        ),
    ],
)
def test_forbidden_declarations_are_validated(exercise: dict, problems: list) -> None:
    assert forbidden.problems(exercise) == problems


def test_the_shipped_lessons_declare_what_the_issue_says() -> None:
    flash = forbidden.declared(ROOT / "lessons" / "flash-attention-3")
    assert {
        "torch.nn.functional.scaled_dot_product_attention",
        "torch.nn.MultiheadAttention",
        "aten::_scaled_dot_product_*",
        "aten::_flash_attention*",
        "aten::_efficient_attention*",
    } <= set(flash.calls)
    assert "write it yourself" in flash.advice
    assert not forbidden.declared(ROOT / "lessons" / "multi-head-attention-2")
    assert not forbidden.declared(ROOT / "lessons" / "no-such-lesson")


FLASH = forbidden.ForbiddenCalls(
    ("torch.nn.functional.scaled_dot_product_attention", "aten::_flash_attention*"),
    "tile it yourself",
)


def _phases(*notes: dict) -> dict[str, PhaseResult]:
    return {f"p{i}": PhaseResult(notes=n) for i, n in enumerate(notes)}


def test_a_recorded_call_fails_the_check_naming_it() -> None:
    check = forbidden.forbidden_check(
        _phases(
            {
                "forbidden.calls": "torch.nn.functional.scaled_dot_product_attention,"
                "aten::_scaled_dot_product_flash_attention_for_cpu",
                "forbidden.watched": "3",
            },
            {
                "forbidden.calls": "torch.nn.functional.scaled_dot_product_attention",
                "forbidden.watched": "1",
            },
        ),
        FLASH,
    )
    assert check == CheckResult(
        "no_forbidden_calls",
        False,
        "the submission calls torch.nn.functional.scaled_dot_product_attention (dispatched to "
        "aten::_scaled_dot_product_flash_attention_for_cpu), which this lesson forbids: tile it "
        "yourself",
    )


def test_no_recorded_call_passes_and_an_unwatched_probe_is_a_lesson_bug() -> None:
    passed = forbidden.forbidden_check(
        _phases({"forbidden.calls": "", "forbidden.watched": "2"}), FLASH
    )
    assert passed == CheckResult(
        "no_forbidden_calls",
        True,
        "none of the lesson's forbidden calls ran (torch.nn.functional.scaled_dot_product_"
        "attention, 1 aten:: operator pattern)",
    )
    unwatched = forbidden.forbidden_check(_phases({}, {"forbidden.watched": "zero"}), FLASH)
    assert not unwatched.passed and "a lesson bug" in unwatched.message
    errored = {"main": PhaseResult(notes={"forbidden.calls": "torch.exp"}, error="timed out")}
    assert "a lesson bug" in forbidden.forbidden_check(errored, FLASH).message


def test_the_forbidden_check_goes_after_the_interface() -> None:
    results = _phases({"forbidden.calls": "", "forbidden.watched": "1"})
    checks = [CheckResult("interface", True, "ok"), CheckResult("numbers", True, "ok")]
    names = [c.name for c in forbidden.with_forbidden_check(checks, results, FLASH)]
    assert names == ["interface", "no_forbidden_calls", "numbers"]
    assert forbidden.with_forbidden_check(checks, results, forbidden.ForbiddenCalls()) == checks
    skipped = [
        CheckResult("interface", False, "no f"),
        judging.skipped("numbers", "the interface check failed"),
    ]
    added = forbidden.with_forbidden_check(skipped, results, FLASH)[1]
    assert added == judging.skipped("no_forbidden_calls", "the interface check failed")
    assert forbidden.with_forbidden_check([], results, FLASH) == []
    first = forbidden.with_forbidden_check([CheckResult("numbers", True, "ok")], results, FLASH)
    assert [c.name for c in first] == ["no_forbidden_calls", "numbers"]


def test_the_loader_checks_forbidden_calls_and_says_where_they_belong(tmp_path: Path) -> None:
    import shutil

    from tracker.curriculum.loader import load_curriculum
    from tracker.errors import CurriculumError

    root = tmp_path / "lessons"
    shutil.copytree(ROOT / "lessons", root)
    flash = root / "flash-attention-3" / "lesson.toml"
    flash.write_text(
        flash.read_text().replace('"torch.nn.MultiheadAttention",', '"MultiheadAttention",')
    )
    mha = root / "multi-head-attention-2" / "lesson.toml"
    mha.write_text('forbidden_calls = ["torch.exp"]\n' + mha.read_text())
    with pytest.raises(CurriculumError) as info:
        load_curriculum(root)
    problems = info.value.problems  # type: ignore[attr-defined]
    assert f"{mha}: unknown key 'forbidden_calls' (it belongs in [exercise])" in problems
    assert any(
        p.startswith(f"{flash}: exercise.forbidden_calls: 'MultiheadAttention' is")
        for p in problems
    )
    shipped = load_curriculum(ROOT / "lessons").lessons["flash-attention-3"].exercise
    assert shipped is not None and "torch.nn.MultiheadAttention" in shipped.forbidden_calls


def test_outputs_like_keeps_what_came_back_in_the_expected_shape() -> None:
    got = Outputs(
        PhaseResult(
            outputs={
                "a": torch.zeros(2, 3),
                "b": torch.zeros(3, 2),
                "c": torch.zeros(2, 3, dtype=torch.int64),
            },
            notes={"d": "ValueError: no"},
        )
    )
    expected = {name: torch.ones(2, 3, dtype=torch.float64) for name in "abcd"}
    actual = got.like(expected)
    assert list(actual) == ["a"] and actual["a"].dtype == torch.float64
    assert got.why("b") == "has shape (3, 2); expected (2, 3)"
    assert got.why("c") == "returned a torch.int64 tensor; expected floating point"
    assert got.why("d") == "raised ValueError: no"


def _mha_weights(d_model: int, seed: int = 5) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    weights = {}
    for layer in ("W_Q", "W_K", "W_V", "W_O"):
        weights[f"{layer}.weight"] = randn(d_model, d_model, scale=d_model**-0.5)
        weights[f"{layer}.bias"] = randn(d_model, scale=0.1)
    return weights


def test_multi_head_attention_without_mistakes_is_the_mha_lesson_reference() -> None:
    from lesson_harness import load_module

    reference = load_module(ROOT / "lessons" / "multi-head-attention-2" / "reference.py")
    weights = _mha_weights(24)
    module = reference.SimpleMultiHeadAttention(24, 3).double().eval()
    judging.copy_linears(
        module, {f"w.{k}": v for k, v in weights.items()}, "w.", ("W_Q", "W_K", "W_V", "W_O")
    )
    randn = judging.normal(6)
    q, k, v = randn(2, 5, 24), randn(2, 7, 24), randn(2, 7, 24)
    mask = judging.padding_mask(7, slice(-2, None), [0, 3])
    with torch.no_grad():
        for args in ((q, k, v), (q, k, v, mask)):
            expected, expected_weights = module(*args)
            out, attention_weights = judging.multi_head_attention(*args[:3], weights, 3, *args[3:])
            assert torch.allclose(out, expected, rtol=1e-12, atol=1e-12)
            assert torch.allclose(attention_weights, expected_weights, rtol=1e-12, atol=1e-12)
        x = randn(2, 6, 24)
        causal = torch.ones(6, 6, dtype=torch.bool).tril()
        assert torch.allclose(
            judging.multi_head_attention(x, x, x, weights, 3, causal=True)[0],
            module(x, x, x, causal)[0],
            rtol=1e-12,
            atol=1e-12,
        )


@pytest.mark.parametrize(
    "mistake", ["no_bias", "split_no_transpose", "merge_no_transpose", "no_w_o", "no_scale"]
)
def test_every_multi_head_mistake_changes_the_numbers(mistake: str) -> None:
    weights = _mha_weights(24)
    x = judging.normal(7)(2, 6, 24)
    right, _ = judging.multi_head_attention(x, x, x, weights, 3)
    wrong, _ = judging.multi_head_attention(x, x, x, weights, 3, mistakes={mistake})
    assert not torch.allclose(right, wrong)
    heads = judging.project_heads(x, weights, "W_V", 3)
    assert heads.shape == (2, 3, 6, 8)
    assert torch.allclose(
        judging.project_output(heads, weights),
        judging.linear(judging.merge_heads(heads), weights["W_O.weight"], weights["W_O.bias"]),
    )


def test_attention_mistakes_speak_in_the_lessons_sizes() -> None:
    found = judging.attention_mistakes(
        "no_scale", "scale_dmodel", d_k=16, d_model=64, size="d_head"
    )
    assert [m.message for m in found] == [
        "scores look unscaled: divide q @ k^T by sqrt(d_head) = 4 before the softmax",
        "scores are divided by sqrt(d_model) = 8; the scale uses the per-head size, "
        "sqrt(d_head) = 4",
    ]
    assert [m.group for m in judging.attention_mistakes("kv_swapped", "no_w_o", d_k=4)] == [
        "kv",
        "w_o",
    ]
    with pytest.raises(ValueError, match="scale_dmodel needs d_model"):
        judging.attention_mistakes("scale_dmodel", d_k=16)


def test_build_failed_adds_the_first_matching_hint() -> None:
    message = judging.build_failed("Block(8, 2)", {"has no attribute W_": "; define W_Q"})
    assert message("AttributeError: Block has no attribute W_Q") == (
        "could not build Block(8, 2): AttributeError: Block has no attribute W_Q; define W_Q"
    )
    assert message("TypeError: bad") == "could not build Block(8, 2): TypeError: bad"


def test_determinism_check_messages() -> None:
    same = {"a.out": torch.ones(2), "b.out": torch.ones(2)}
    assert judging.determinism_check(Outputs(PhaseResult(outputs=same)), "a.out", "b.out").passed
    other = {"a.out": torch.ones(2), "b.out": torch.zeros(2)}
    check = judging.determinism_check(
        Outputs(PhaseResult(outputs=other)), "a.out", "b.out", setting="with dropout=0.1, "
    )
    assert check.message.startswith(
        "with dropout=0.1, two eval-mode calls on the same input give different outputs: "
        "dropout is active in eval mode"
    )
    missing = Outputs(PhaseResult(outputs={"a.out": torch.ones(2)}, notes={"b": "ValueError: x"}))
    assert judging.determinism_check(missing, "a.out", "b.out").message == (
        "two eval-mode calls did not both run: the second raised ValueError: x"
    )


def test_gradients_check_messages() -> None:
    expected = {"w": torch.ones(2, dtype=torch.float64), "b": torch.zeros(2, dtype=torch.float64)}

    def check(outputs: dict, notes: dict | None = None, outputs_ok: bool = True) -> str:
        got = Outputs(PhaseResult(outputs=outputs, notes=notes or {}))
        return judging.gradients_check(
            got, expected, outputs_ok=outputs_ok, what="backward()", nan_advice="avoid -inf"
        ).message

    right = {"grad.w": torch.ones(2), "grad.b": torch.zeros(2)}
    assert check(right) == "gradients reach every parameter and match the reference"
    assert check({}, {"grad": "RuntimeError: boom"}) == "backward() raised RuntimeError: boom"
    assert check({"grad.w": torch.ones(2)}).startswith("no gradient reaches b: something cuts")
    assert check({"grad.w": torch.ones(2)}, {"grad.unused": "b"}) == (
        "parameters b receive no gradient: use them in forward or remove them"
    )
    nan = {"grad.w": torch.full((2,), math.nan), "grad.b": torch.zeros(2)}
    assert check(nan) == "the gradients of w contain NaN or inf: avoid -inf"
    assert check(nan, outputs_ok=False).endswith("the outputs are wrong too (see numbers_float64)")
    off = {"grad.w": torch.ones(2), "grad.b": torch.ones(2)}
    assert check(off).startswith("gradients of b differ from the reference although the outputs")
    assert check(off, outputs_ok=False) == (
        "gradients differ from the reference because the outputs do (see numbers_float64)"
    )
