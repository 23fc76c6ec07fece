"""An in-process stand-in for the sandbox runner, for testing lessons' checks.

It does what the runner does, minus the sandbox: make the inputs on the trusted
side, round-trip them through safetensors, import the submission as a module,
run the lesson's probe through the probe kit (recording the lesson's forbidden
calls), round-trip the outputs, then judge and add the forbidden-call check.
Phases listed in ``SUBPROCESS_PHASES`` of a lesson's checks (memory
measurements) run in a child process so their peak RSS is measured from
outside, per child, with os.wait4.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import torch
from safetensors.torch import load, load_file, save, save_file

from tracker.validation.forbidden import declared, with_forbidden_check
from tracker.validation.lesson_api import CheckResult, PhaseResult
from tracker.validation.runner import PROBE_KIT

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
SEED = 1234
_counter = 0


def probe_kit() -> ModuleType:
    """The probe kit, imported as the worker imports it: ``probe_kit``, before any probe."""
    if "probe_kit" not in sys.modules:
        spec = importlib.util.spec_from_file_location("probe_kit", PROBE_KIT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["probe_kit"] = module
        spec.loader.exec_module(module)
    return sys.modules["probe_kit"]


def load_module(path: Path, prefix: str = "lesson") -> ModuleType:
    global _counter
    _counter += 1
    name = f"_harness_{prefix}_{_counter}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _roundtrip(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return load(save({k: v.contiguous() for k, v in tensors.items()})) if tensors else {}


def run_phase_in_process(
    probe: ModuleType,
    submission_path: Path,
    phase: str,
    inputs: dict[str, torch.Tensor],
    device: str,
    forbidden_calls: tuple[str, ...] = (),
) -> PhaseResult:
    start = time.perf_counter()
    try:
        submission = load_module(submission_path, "submission")
    except Exception as exc:  # noqa: BLE001 - the runner reports these as errors
        return PhaseResult(error=f"importing the submission raised {type(exc).__name__}: {exc}")
    outputs, notes = probe_kit().run_probe(
        probe, submission, phase, _roundtrip(inputs), device, forbidden_calls
    )
    tensors = {k: v for k, v in outputs.items() if isinstance(v, torch.Tensor)}
    return PhaseResult(
        outputs=_roundtrip(tensors), notes=dict(notes), wall_s=time.perf_counter() - start
    )


_CHILD = r"""
import importlib.util, json, sys
import torch
from safetensors.torch import load_file, save_file
probe_path, submission_path, phase, inputs_path, out_path, device, kit_path = sys.argv[1:8]
forbidden = json.loads(sys.argv[8])
def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
kit = load(kit_path, "probe_kit")
probe = load(probe_path, "probe")
submission = load(submission_path, "submission")
outputs, notes = kit.run_probe(probe, submission, phase, load_file(inputs_path), device, forbidden)
save_file({k: v.contiguous() for k, v in outputs.items()}, out_path)
print(json.dumps(notes))
"""


def run_phase_in_child(
    probe_path: Path,
    submission_path: Path,
    phase: str,
    inputs: dict[str, torch.Tensor],
    device: str,
    forbidden_calls: tuple[str, ...] = (),
) -> PhaseResult:
    """Run one phase in a fresh interpreter; peak RSS of that child alone, via wait4."""
    with tempfile.TemporaryDirectory() as tmp:
        inputs_path, out_path = Path(tmp, "inputs.safetensors"), Path(tmp, "out.safetensors")
        save_file({k: v.contiguous() for k, v in inputs.items()}, str(inputs_path))
        start = time.perf_counter()
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                str(probe_path),
                str(submission_path),
                phase,
                str(inputs_path),
                str(out_path),
                device,
                str(PROBE_KIT),
                json.dumps(list(forbidden_calls)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "OMP_NUM_THREADS": "2"},
        )
        stdout, stderr = child.stdout.read(), child.stderr.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        peak = usage.ru_maxrss * 1024  # kilobytes on Linux
        if child.returncode != 0:
            tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["crashed"]
            return PhaseResult(peak_rss_bytes=peak, wall_s=wall, error=tail[0])
        return PhaseResult(
            outputs=load_file(str(out_path)),
            notes=json.loads(stdout.decode() or "{}"),
            peak_rss_bytes=peak,
            wall_s=wall,
        )


def judge_submission(
    lesson: str, submission_path: Path, device: str = "cpu", lessons: Path = LESSONS
) -> list[CheckResult]:
    folder = lessons / lesson
    checks = load_module(folder / "checks.py", "checks")
    probe_kit()
    probe = load_module(folder / "probe.py", "probe")
    forbidden = declared(folder)
    phases = getattr(checks, "PHASES", ("main",))
    in_child = set(getattr(checks, "SUBPROCESS_PHASES", ()))
    inputs = {phase: checks.make_inputs(phase, SEED) for phase in phases}
    results = {}
    for phase in phases:
        if phase in in_child:
            results[phase] = run_phase_in_child(
                folder / "probe.py", submission_path, phase, inputs[phase], device, forbidden.calls
            )
        else:
            results[phase] = run_phase_in_process(
                probe, submission_path, phase, inputs[phase], device, forbidden.calls
            )
    return with_forbidden_check(list(checks.judge(inputs, results, device)), results, forbidden)
