"""The probes' toolkit (sandbox side): the forbidden-call recorder, the Probe helpers, and
that the file stays importable where the tracker package is hidden.

The recorder runs in-process here; test_lesson_checks.py runs it through every lesson's
probe, and test_submit_cli.py through a sandboxed worker.
"""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from lesson_harness import LESSONS, probe_kit

from tracker.validation.forbidden import declared
from tracker.validation.runner import PROBE_KIT

kit = probe_kit()
FUSED = [
    "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.functional.multi_head_attention_forward",
    "torch.nn.MultiheadAttention",
    "aten::_scaled_dot_product_*",
    "aten::_flash_attention*",
]


def qkv() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    return tuple(torch.randn(1, 2, 6, 8, generator=g) for _ in range(3))


def honest(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.softmax(q @ k.transpose(-2, -1) / 8**0.5, dim=-1) @ v


def recorded(fn, names: list[str] = FUSED) -> list[str]:  # noqa: ANN001
    recorder = kit.Recorder(names)
    with recorder, torch.no_grad():
        fn()
    return list(recorder.ran)


def test_fused_attention_is_recorded_by_name_and_by_the_op_it_dispatches_to() -> None:
    q, k, v = qkv()
    assert recorded(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)) == [
        "torch.nn.functional.scaled_dot_product_attention",
        "aten::_scaled_dot_product_flash_attention_for_cpu",
    ]


def test_the_aten_kernel_called_directly_is_recorded() -> None:
    q, k, v = qkv()
    op = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
    assert recorded(lambda: op(q, k, v)) == ["aten::_scaled_dot_product_flash_attention_for_cpu"]
    # The dispatcher's log alone (no Python-level name declared) still sees it.
    assert recorded(lambda: F.scaled_dot_product_attention(q, k, v), ["aten::_scaled_*"]) == [
        "aten::_scaled_dot_product_flash_attention_for_cpu"
    ]


def test_a_forbidden_module_class_is_recorded_when_its_forward_runs() -> None:
    x = torch.randn(2, 6, 8)

    class Wrapper(torch.nn.MultiheadAttention):  # a subclass is the same module
        pass

    module = Wrapper(8, 2, batch_first=True).eval()
    ran = recorded(lambda: module(x, x, x))
    assert ran[:2] == [
        "torch.nn.MultiheadAttention",
        "torch.nn.functional.multi_head_attention_forward",
    ]
    built_only = kit.Recorder(FUSED)
    with built_only:
        torch.nn.MultiheadAttention(8, 2)
    assert list(built_only.ran) == []


def test_honest_code_records_nothing_and_nothing_is_recorded_outside_the_block() -> None:
    q, k, v = qkv()
    assert recorded(lambda: honest(q, k, v)) == []
    recorder = kit.Recorder(FUSED)
    F.scaled_dot_product_attention(q, k, v)
    with recorder, recorder:  # nested: one watch
        honest(q, k, v)
    F.scaled_dot_product_attention(q, k, v)
    assert list(recorder.ran) == [] and recorder.watched == 1
    assert recorder.notes() == {"forbidden.calls": "", "forbidden.watched": "1"}


def test_a_name_torch_lacks_is_reported() -> None:
    recorder = kit.Recorder(["torch.nn.functional.no_such_function", "torch.exp"])
    with recorder:
        torch.exp(torch.zeros(2))
    assert recorder.notes() == {
        "forbidden.calls": "torch.exp",
        "forbidden.watched": "1",
        "forbidden.unresolved": "torch.nn.functional.no_such_function",
    }


@pytest.mark.parametrize("lesson", sorted(p.parent.name for p in LESSONS.glob("*/probe.py")))
def test_every_declared_name_resolves_in_this_torch(lesson: str) -> None:
    calls = declared(LESSONS / lesson).calls
    assert kit.Recorder(calls).unresolved == []


def test_recording_does_not_import_torch_dynamo() -> None:
    """A dispatch mode's first op would import torch._dynamo (1.3 s, sympy too) unless the
    recorder opts out; a cold submit cannot afford that in every worker."""
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('probe_kit', {str(PROBE_KIT)!r})\n"
        "kit = importlib.util.module_from_spec(spec); spec.loader.exec_module(kit)\n"
        "import torch\n"
        "recorder = kit.Recorder(['torch.nn.MultiheadAttention', 'aten::_flash*'])\n"
        "with recorder:\n"
        "    torch.randn(4, 4) @ torch.randn(4, 4)\n"
        "assert recorder.watched == 1\n"
        "print(sorted(m for m in sys.modules if m.startswith(('torch._dynamo', 'sympy'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_the_kit_imports_nothing_from_tracker() -> None:
    text = PROBE_KIT.read_text()
    assert "from tracker" not in text and "import tracker" not in text


def test_run_probe_adds_the_recorder_notes_only_when_calls_are_forbidden() -> None:
    q, k, v = qkv()

    def run(submission, phase, inputs, device):  # noqa: ANN001, ANN202
        probe = kit.Probe(submission, device)
        probe.keep("out", probe.call(submission.f, q, k, v))
        return probe.result()

    probe = types.SimpleNamespace(run=run)
    cheat = types.SimpleNamespace(f=F.scaled_dot_product_attention)
    _, notes = kit.run_probe(probe, cheat, "main", {}, "cpu", FUSED)
    assert notes["forbidden.calls"].startswith("torch.nn.functional.scaled_dot_product_attention")
    assert notes["forbidden.watched"] == "1"
    outputs, notes = kit.run_probe(probe, cheat, "main", {}, "cpu", ())
    assert notes == {} and outputs["out"].shape == (1, 2, 6, 8)
    assert kit.watching().__class__.__name__ == "nullcontext"  # nothing left active


def test_probe_helpers_turn_learner_errors_into_notes() -> None:
    module = types.ModuleType("submission")
    probe = kit.Probe(module, "cpu")
    assert probe.function("f") is None
    assert probe.notes == {"construct": "the file defines no function f"}
    with probe.attempt("case"):
        probe.keep("case.out", [1, 2])
    assert probe.notes["case"] == "TypeError: returned list, not a tensor"
    with probe.attempt("pair"):
        kit.pair(torch.zeros(2))
    assert (
        probe.notes["pair"] == "TypeError: returned one tensor; expected a tuple (output, weights)"
    )
    assert kit.output_and_extra((torch.zeros(1),))[1] is None
    assert kit.case_names({"case.a.q": 1, "case.b.q": 2, "case.a.k": 3}, ".q") == [
        "case.a",
        "case.b",
    ]
    with pytest.raises(ValueError, match="kind must be"):
        kit.probe("f", kind="class")


def test_the_probe_decorator_notes_a_missing_entry_and_runs_the_body_otherwise() -> None:
    seen = []

    @kit.probe("GroupedQueryAttention", kind="module")
    def run(probe, cls, phase, inputs) -> None:  # noqa: ANN001
        seen.append((cls, phase))
        probe.notes["ran"] = "yes"

    assert run(types.ModuleType("empty"), "main", {}, "cpu") == (
        {},
        {"construct": "the file defines no GroupedQueryAttention"},
    )
    full = types.ModuleType("full")
    full.GroupedQueryAttention = object
    assert run(full, "main", {}, "cpu") == ({}, {"ran": "yes"}) and seen == [(object, "main")]


def test_load_linears_names_what_is_missing_or_mis_shaped() -> None:
    inputs = {"w.A.weight": torch.ones(2, 3), "w.A.bias": torch.zeros(2)}

    def load(layer: object, bias_required: bool = False) -> list[str]:
        module = torch.nn.Module()
        if layer is not None:
            module.A = layer
        return kit.load_linears(
            module, inputs, "w.", ["A"], entry="Attn", bias_required=bias_required
        )

    assert load(torch.nn.Linear(3, 2)) == []
    assert load(torch.nn.Linear(3, 2, bias=False)) == ["A"]
    for layer, bias_required, message in (
        (None, False, "Attn has no attribute A (an nn.Linear)"),
        (torch.nn.ReLU(), False, "A is ReLU, which has no .weight tensor"),
        (torch.nn.Linear(3, 3), False, "A.weight has shape (3, 3); expected (2, 3)"),
        (torch.nn.Linear(3, 2, bias=False), True, "A has no bias"),
    ):
        with pytest.raises((AttributeError, TypeError, ValueError), match=re.escape(message)):
            load(layer, bias_required)


def test_the_worker_runs_a_probe_through_the_kit(tmp_path: Path) -> None:
    """worker.run_job loads probe_kit.py from the job dir before the probe and hands it
    job.json's forbidden calls; a job dir without the kit still runs its probe."""
    import json
    import shutil

    from safetensors.torch import save_file

    from tracker.validation import worker

    for with_kit in (True, False):
        job = tmp_path / f"job-{with_kit}"
        (job / "out").mkdir(parents=True)
        if with_kit:
            shutil.copy(PROBE_KIT, job / "probe_kit.py")
        probe = (
            "import torch\n"
            "def run(submission, phase, inputs, device):\n"
            "    import probe_kit as kit\n"
            "    probe = kit.Probe(submission, device)\n"
            "    probe.keep('out', probe.call(submission.f, inputs['x']))\n"
            "    return probe.result()\n"
            if with_kit
            else "def run(submission, phase, inputs, device):\n"
            "    return {'out': submission.f(inputs['x'])}, {}\n"
        )
        (job / "probe.py").write_text(probe)
        (job / "submission.py").write_text("import torch\ndef f(x):\n    return torch.exp(x)\n")
        save_file({"x": torch.zeros(2)}, str(job / "inputs.safetensors"))
        threads = torch.get_num_threads()  # run_job sets it: leave this process's alone
        spec = {
            "phase": "main",
            "device": "cpu",
            "threads": threads,
            "forbidden_calls": ["torch.exp"],
        }
        (job / "job.json").write_text(json.dumps(spec))
        harness_copy = sys.modules.pop("probe_kit")
        try:
            assert worker.run_job(job) == 0
        finally:
            sys.modules["probe_kit"] = harness_copy  # for the other tests
            sys.modules.pop("submission", None)
        notes = json.loads((job / "out" / "notes.json").read_text())
        expected = {"forbidden.calls": "torch.exp", "forbidden.watched": "1"} if with_kit else {}
        assert notes == expected


def test_aliases_are_recorded_under_the_first_name_declared() -> None:
    x = torch.ones(2, 2)
    ran = recorded(
        lambda: torch.einsum("ij,jk->ik", x, x), ["torch.einsum", "torch.functional.einsum"]
    )
    assert ran == ["torch.einsum"]
