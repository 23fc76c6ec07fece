"""Trusted checks for efficient-fine-tuning-2: the learner's LoRALinear against reference.py.

The probe builds the learner's layer around trusted base weights (in 24, out 16; r 4
and alpha 8, so alpha / r = 2, and r 8, alpha 4 around a base without bias, where
alpha / r = 0.5 and alpha // r = 0), reads its own initialisation, then loads trusted
lora_A and lora_B, so every number can be recomputed here: the forward pass, the
gradients, the merged layer, and five SGD steps replayed with ``reference.train``.
A forward that disagrees is diagnosed by ``_variant`` (the scale alpha, 1, r / alpha,
alpha / sqrt(r) or alpha // r instead of alpha / r, no base path, no base bias);
merge mistakes are told apart by what the probe saw of the merged layer.
"""

from __future__ import annotations

import math

import torch

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main",)
ENTRY = "LoRALinear"
IN, OUT, BATCH, SEQ = 24, 16, 3, 5
R, ALPHA = 4, 8.0
OTHER_R, OTHER_ALPHA = 8, 4.0
TRAIN_N, STEPS, LR = 32, 5, 0.1  # the probe's loop uses the same STEPS and LR
SCALE = ALPHA / R
CHECKS = (
    "interface",
    "frozen_base",
    "initialisation",
    "numbers_float64",
    "gradients",
    "merge",
    "merge_after_training",
    "numbers_float32",
)
LABELS = {
    "main.out": f"r = {R}, alpha = {ALPHA:g}",
    "other.out": f"r = {OTHER_R}, alpha = {OTHER_ALPHA:g} around a base without bias",
}
MISTAKES = (
    Mistake(
        "scale_alpha",
        f"the update is scaled by alpha = {ALPHA:g}; the scale is alpha / r = {SCALE:g} "
        f"(r = {R}), which keeps the update's size steady when r changes",
        "scale",
    ),
    Mistake("no_scale", f"the update is not scaled: multiply it by alpha / r = {SCALE:g}", "scale"),
    Mistake(
        "scale_inverted",
        f"the scale is inverted: alpha / r = {SCALE:g}, not r / alpha = {R / ALPHA:g}",
        "scale",
    ),
    Mistake(
        "scale_sqrt",
        f"the update is scaled by alpha / sqrt(r) = {ALPHA / math.sqrt(R):g} (rsLoRA's scale); "
        f"this lesson, like the LoRA paper, uses alpha / r = {SCALE:g}",
        "scale",
    ),
    Mistake(
        "scale_floor",
        f"the scale is floored: alpha // r gives {OTHER_ALPHA:g} // {OTHER_R} = "
        f"{OTHER_ALPHA // OTHER_R:g}; use alpha / r = {OTHER_ALPHA / OTHER_R:g}",
        "scale",
    ),
    Mistake(
        "no_base",
        "the output is only the low-rank update: forward must return base(x) plus it",
        "base",
    ),
    Mistake(
        "no_bias",
        "the base layer's bias is missing from the output: call self.base(x), which adds it, "
        "rather than x @ base.weight.T",
        "base",
    ),
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    weight, bias = randn(OUT, IN, scale=IN**-0.5), randn(OUT, scale=0.1)
    inputs = {
        "x": randn(BATCH, SEQ, IN),
        "grad_seed": randn(BATCH, SEQ, OUT),
        "main.config": torch.tensor([R, ALPHA, 1.0], dtype=torch.float64),
        "main.weight": weight,
        "main.bias": bias,
        "main.A": randn(R, IN, scale=0.3),
        "main.B": randn(OUT, R, scale=0.3),
        "other.config": torch.tensor([OTHER_R, OTHER_ALPHA, 0.0], dtype=torch.float64),
        "other.weight": weight.clone(),
        "other.A": randn(OTHER_R, IN, scale=0.3),
        "other.B": randn(OUT, OTHER_R, scale=0.3),
        "train.A": randn(R, IN, scale=IN**-0.5),
        "train.B": torch.zeros(OUT, R, dtype=torch.float64),
        "train.x": randn(TRAIN_N, IN),
        "train.y": randn(TRAIN_N, OUT),
    }
    return inputs


def _scale(r: int, alpha: float, mistakes: frozenset[str]) -> float:
    if "scale_alpha" in mistakes:
        return alpha
    if "no_scale" in mistakes:
        return 1.0
    if "scale_inverted" in mistakes:
        return r / alpha
    if "scale_sqrt" in mistakes:
        return alpha / math.sqrt(r)
    if "scale_floor" in mistakes:
        return alpha // r
    return alpha / r


def _variant(data: dict[str, torch.Tensor], config: str, mistakes: frozenset[str]) -> torch.Tensor:
    r, alpha, has_bias = data[f"{config}.config"].tolist()
    x, A, B = data["x"], data[f"{config}.A"], data[f"{config}.B"]  # noqa: N806
    update = _scale(int(r), alpha, mistakes) * (x @ A.T @ B.T)
    if "no_base" in mistakes:
        return update
    bias = data["main.bias"] if has_bias and "no_bias" not in mistakes else None
    return judging.linear(x, data[f"{config}.weight"], bias) + update


def _reference(data: dict[str, torch.Tensor], config: str, lora: str) -> torch.nn.Module:
    """The reference layer around ``config``'s base, with ``lora``'s A and B loaded."""
    r, alpha, has_bias = data[f"{config}.config"].tolist()
    base = torch.nn.Linear(IN, OUT, bias=bool(has_bias), dtype=torch.float64)
    with torch.no_grad():
        base.weight.copy_(data[f"{config}.weight"])
        if has_bias:
            base.bias.copy_(data[f"{config}.bias"])
    module = reference.LoRALinear(base, int(r), alpha)
    with torch.no_grad():
        module.lora_A.copy_(data[f"{lora}.A"])
        module.lora_B.copy_(data[f"{lora}.B"])
    return module


def _interface_failed(note: str) -> str:
    return (
        f"could not build {ENTRY}(nn.Linear({IN}, {OUT}), r={R}, alpha={ALPHA:g}) and find its "
        f"base, lora_A ({R}, {IN}) and lora_B ({OUT}, {R}): {note}"
    )


@judging.judged(CHECKS, _interface_failed)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]
    main_ref = _reference(data, "main", "main")
    with torch.no_grad():
        expected = {
            "main.out": main_ref(data["x"]),
            "other.out": _reference(data, "other", "other")(data["x"]),
        }
    actual = got.like(expected)
    numbers_ok = judging.agree(actual, expected, LABELS)

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {key: _variant(data, key.split(".")[0], mistakes) for key in LABELS}

    found = None if numbers_ok else judging.diagnose(actual, variant, MISTAKES)
    frozen, merge = _frozen(got), _merge(got, main_ref, data, expected, numbers_ok)
    f32 = {"main.out": "the forward output"}
    if merge.passed:  # a wrong merge is merge's to report, not float32's
        f32["merge.out"] = "the merged layer's output"
    return [
        CheckResult(
            "interface", True, f"{ENTRY} has base, lora_A ({R}, {IN}), lora_B ({OUT}, {R})"
        ),
        frozen,
        _initialisation(got, data),
        judging.numbers_check(
            got,
            actual,
            expected,
            LABELS,
            found=found,
            passed="float64 outputs match base(x) + (alpha / r) * x @ A^T @ B^T, also with "
            f"{LABELS['other.out']}",
            advice="check forward = base(x) + (alpha / r) * (x @ lora_A.T @ lora_B.T)",
        ),
        _gradients(got, data, main_ref, numbers_ok),
        merge,
        _training(got, data, numbers_ok, frozen.passed, merge.passed),
        judging.float32_check(
            got,
            {"main.out": expected["main.out"], "merge.out": expected["main.out"]},
            f32,
            device,
            numbers_ok=numbers_ok,
            prefix="f32.",
            missing_hint="create lora_A and lora_B with the base weight's dtype and device, or "
            "as nn.Parameters that .to() moves",
        ),
    ]


def _names(got: Outputs, key: str) -> list[str]:
    note = got.notes.get(key, "")
    return [name for name in note.split(",") if name]


def _frozen(got: Outputs) -> CheckResult:
    name = "frozen_base"
    if "trainable" not in got.notes:
        return CheckResult(name, False, f"could not read the parameters: {got.note('init')}")
    trainable = _names(got, "trainable")
    extra = [n for n in trainable if n not in ("lora_A", "lora_B")]
    base = [n for n in extra if n.startswith("base.")]
    if base == ["base.bias"]:
        return CheckResult(
            name,
            False,
            "base.bias is still trainable: freeze the bias too (self.base.requires_grad_(False) "
            "freezes weight and bias at once)",
        )
    if base:
        return CheckResult(
            name,
            False,
            f"{', '.join(base)} {'is' if len(base) == 1 else 'are'} trainable "
            "(requires_grad=True): "
            "freeze the base layer with self.base.requires_grad_(False), so only lora_A and "
            "lora_B train (and an optimiser given module.parameters() leaves the base alone)",
        )
    if extra:
        return CheckResult(
            name,
            False,
            f"{', '.join(extra)} {'is' if len(extra) == 1 else 'are'} trainable too: only lora_A "
            "and lora_B may be (keep alpha / r a plain float)",
        )
    frozen = [n for n in ("lora_A", "lora_B") if n not in trainable]
    if frozen:
        return CheckResult(
            name, False, f"{' and '.join(frozen)} cannot train (requires_grad=False)"
        )
    grads = _names(got, "grad.params")
    if grads and any(n.startswith("base.") for n in grads):
        return CheckResult(name, False, "the base layer receives gradients: freeze it")
    return CheckResult(name, True, "base.weight and base.bias are frozen; lora_A and lora_B train")


def _scalar(got: Outputs, key: str) -> float | None:
    value = got.get(key, ())
    return None if value is None else float(value)


def _initialisation(got: Outputs, data: dict[str, torch.Tensor]) -> CheckResult:
    name = "initialisation"
    a_max, a_spread = _scalar(got, "init.A_absmax"), _scalar(got, "init.A_spread")
    b_max, same = _scalar(got, "init.B_absmax"), _scalar(got, "init.A_same")
    if None in (a_max, a_spread, b_max, same):
        return CheckResult(
            name, False, f"could not read the initial lora_A and lora_B: {got.note('init')}"
        )
    if a_max == 0.0 and b_max == 0.0:
        return CheckResult(
            name,
            False,
            "lora_A and lora_B both start at zero: then neither gets a gradient and the layer "
            "never trains; initialise lora_A at random (nn.init.kaiming_uniform_(A, "
            "a=math.sqrt(5)), or normal with a small std) and keep lora_B zero",
        )
    if a_max == 0.0:
        return CheckResult(
            name,
            False,
            "lora_A starts at zero and lora_B at random: it is the other way round, lora_A "
            f"({R}, {IN}) random and lora_B ({OUT}, {R}) zero",
        )
    if b_max != 0.0:
        return CheckResult(
            name,
            False,
            f"lora_B does not start at zero (max |entry| {b_max:.3g}): with B = 0 the update "
            "B @ A is zero and the adapted layer starts exactly as the pre-trained one",
        )
    if a_spread == 0.0 or same:
        what = "is constant" if a_spread == 0.0 else "is the same in every new layer"
        return CheckResult(
            name,
            False,
            f"lora_A {what}: draw it at random (nn.init.kaiming_uniform_ or torch.randn * std); "
            "equal rows make the r directions one, so the update is effectively rank 1",
        )
    out = got.get("init.out", (BATCH, SEQ, OUT))
    if out is None:
        return CheckResult(name, False, f"at initialisation the output {got.why('init.out')}")
    with torch.no_grad():
        base = judging.linear(data["x"], data["main.weight"], data["main.bias"])
    comparison = judging.compare(out, base, judging.FLOAT64)
    if not comparison.ok:
        return CheckResult(
            name,
            False,
            f"at initialisation the output differs from base(x) ({comparison.describe()}) "
            "although lora_B is zero: forward must be base(x) plus the update",
        )
    return CheckResult(
        name, True, "lora_A starts random, lora_B at zero, and the output equals base(x)"
    )


def _gradients(
    got: Outputs, data: dict[str, torch.Tensor], ref: torch.nn.Module, numbers_ok: bool
) -> CheckResult:
    name = "gradients"
    ref.zero_grad(set_to_none=True)
    (ref(data["x"]) * data["grad_seed"]).sum().backward()
    expected = {"grad.lora_A": ref.lora_A.grad, "grad.lora_B": ref.lora_B.grad}
    actual = got.like(expected)
    if "grad.params" not in got.notes:
        return CheckResult(name, False, f"backward() through forward(x) raised {got.note('main')}")
    missing = [k.removeprefix("grad.") for k in expected if k not in actual]
    if missing:
        return CheckResult(
            name,
            False,
            f"no gradient reaches {' and '.join(missing)}: something cuts the graph (.detach(), "
            ".data, torch.no_grad() around the update, or a tensor rebuilt with torch.tensor)",
        )
    extra = [n for n in _names(got, "grad.params") if n not in ("lora_A", "lora_B")]
    if extra:
        verb = "receives a gradient" if len(extra) == 1 else "receive gradients"
        return CheckResult(name, False, f"{', '.join(extra)} {verb}: freeze the base layer")
    failure = judging.first_mismatch(actual, expected, expected)
    if failure is not None:
        key, comparison = failure
        detail = comparison.describe() if comparison is not None else ""
        because = " because the output does (see numbers_float64)" if not numbers_ok else ""
        return CheckResult(
            name, False, f"the gradient of {key.removeprefix('grad.')} differs ({detail}){because}"
        )
    return CheckResult(name, True, "only lora_A and lora_B receive gradients, and they match")


MERGE_ADVICE = "merge() returns a new nn.Linear with weight W + (alpha / r) * lora_B @ lora_A"


def _merge(
    got: Outputs,
    ref: torch.nn.Module,
    data: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    numbers_ok: bool,
) -> CheckResult:
    name = "merge"
    linear = _scalar(got, "merge.is_linear")
    if linear is None:
        return CheckResult(name, False, f"merge() raised {got.note('merge')}")
    if not linear:
        return CheckResult(name, False, f"merge() does not return an nn.Linear: {MERGE_ADVICE}")
    merged = ref.merge()
    weight = got.get("merge.weight", (OUT, IN))
    if weight is None:
        return CheckResult(name, False, f"the merged weight {got.why('merge.weight')}")
    dtype = got.dtype("merge.weight")
    if dtype != torch.float64:
        return CheckResult(
            name,
            False,
            f"the merged layer is {dtype} for a float64 LoRALinear: build it with "
            "nn.Linear(..., dtype=base.weight.dtype, device=base.weight.device)",
        )
    after = got.get("merge.after", (BATCH, SEQ, OUT))
    changed = after is None or not judging.compare(after, expected["main.out"], judging.FLOAT64).ok
    if _scalar(got, "merge.is_base") or (numbers_ok and changed):
        return CheckResult(
            name,
            False,
            "merge() changed the LoRALinear itself (its base now holds the update, so forward "
            "adds it twice): build a new nn.Linear and leave self.base untouched",
        )
    comparison = judging.compare(weight, merged.weight.detach(), judging.FLOAT64)
    if not comparison.ok:
        base = data["main.weight"]
        update = data["main.B"] @ data["main.A"]
        for scale, what in ((1.0, "no scale"), (ALPHA, f"alpha = {ALPHA:g}"), (-SCALE, "a minus")):
            if judging.compare(weight, base + scale * update, judging.DIAGNOSIS).ok:
                return CheckResult(
                    name,
                    False,
                    f"the merged weight is W + B @ A with {what}: use the same scale as forward, "
                    f"alpha / r = {SCALE:g}",
                )
        hint = " (forward is wrong too: see numbers_float64)" if not numbers_ok else ""
        return CheckResult(
            name,
            False,
            f"the merged weight differs ({comparison.describe()}): {MERGE_ADVICE}{hint}",
        )
    bias = got.get("merge.bias", (OUT,))
    if bias is None or not judging.compare(bias, data["main.bias"], judging.FLOAT64).ok:
        return CheckResult(
            name,
            False,
            "the merged layer's bias is not the base's: copy base.bias into it (a new "
            "nn.Linear starts with a random bias)",
        )
    out = got.get("merge.out", (BATCH, SEQ, OUT))
    if out is None or not judging.compare(out, expected["main.out"], judging.FLOAT64).ok:
        return CheckResult(name, False, "the merged layer's output differs from forward")
    other = got.get("other.merge.out", (BATCH, SEQ, OUT))
    if other is None:
        return CheckResult(
            name, False, f"for a base without bias merge() {got.why('other.merge.out')}"
        )
    forward = got.get("other.out", (BATCH, SEQ, OUT))  # the learner's own forward
    if forward is None or not judging.compare(other, forward, judging.FLOAT64).ok:
        return CheckResult(
            name, False, "for a base without bias the merged layer's output differs from forward"
        )
    return CheckResult(name, True, "merge() returns a new nn.Linear whose output equals forward")


def _training(
    got: Outputs, data: dict[str, torch.Tensor], numbers_ok: bool, frozen_ok: bool, merge_ok: bool
) -> CheckResult:
    name = "merge_after_training"
    trained = reference.train(
        _reference(data, "main", "train"), data["train.x"], data["train.y"], STEPS, LR
    )
    with torch.no_grad():
        out = trained(data["x"])
    expected = {
        "train.A": trained.lora_A.detach(),
        "train.B": trained.lora_B.detach(),
        "train.out": out,
        "train.merge.out": out,
    }
    actual = got.like(expected)
    labels = {
        "train.A": "lora_A",
        "train.B": "lora_B",
        "train.out": "the output",
        "train.merge.out": "the merged layer's output",
    }
    where = f"after {STEPS} SGD steps (lr {LR:g}) on random data"
    failure = judging.first_mismatch(actual, expected, labels)
    if failure is None:
        return CheckResult(name, True, f"{where}, lora_A, lora_B and the merged layer agree")
    key, comparison = failure
    if comparison is None:
        return CheckResult(name, False, f"{where} {labels[key]} {got.why(key)}")
    for ok, check in (
        (numbers_ok, "numbers_float64"),
        (frozen_ok, "frozen_base"),
        (merge_ok or key != "train.merge.out", "merge"),
    ):
        if not ok:
            return CheckResult(name, False, f"{where} {labels[key]} differs too (see {check})")
    return CheckResult(
        name,
        False,
        f"{where} {labels[key]} differs from the reference ({comparison.describe()}): "
        "check that the optimiser only moves lora_A and lora_B and merge() uses their current "
        "values",
    )
