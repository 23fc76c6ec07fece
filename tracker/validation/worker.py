"""The untrusted side: runs inside the sandbox, beside the learner's code.

This file is copied into each job directory and run as a plain script
(``python worker.py JOB_DIR``) or, in the warm worker, called as ``run_job``
in a freshly forked child. It imports only the standard library, torch and
safetensors: nothing from ``tracker`` (the sandbox does not even contain it).

A job directory holds::

    job.json              {"phase": ..., "device": ..., "threads": N,
                           "forbidden_calls": [...]}  (written last)
    probe.py              the lesson's probe (trusted code, untrusted company)
    probe_kit.py          the probes' toolkit; runs the probe and records forbidden calls
    submission.py         the learner's file
    inputs.safetensors    tensors made by the trusted side
    out/                  the only place the worker writes results

and the worker leaves in ``out/``: ``outputs.safetensors`` and ``notes.json``
when the probe ran, or ``error.json`` when the submission could not even be
loaded (syntax error, import error). The trusted side treats every byte of
``out/`` as untrusted: tensors are compared with its own reference, notes only
shape messages, and a missing file means the run failed.

A cold run may start before the trusted side has made the inputs, so that the
worker's ``import torch`` overlaps the runner's: the worker then compiles and
imports the submission first and waits for ``job.json`` (written last,
atomically, after ``inputs.safetensors``). ``{"cancel": true}`` in it means the
runner gave up. When ``job.json`` is already there the worker does not wait.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path

SUBMISSION_MODULE = "submission"
KIT_MODULE = "probe_kit"  # the probes' toolkit, copied beside probe.py (see probe_kit.py)
MAX_NOTE_CHARS = 2000
MAX_NOTES = 200
SPEC_WAIT_S = 300.0  # the runner's wall-clock limit ends a wait long before this
SPEC_POLL_S = 0.002


def _error(out: Path, kind: str, message: str, line: int | None = None) -> None:
    payload = {"kind": kind, "message": message[:MAX_NOTE_CHARS], "line": line}
    (out / "error.json").write_text(json.dumps(payload))


def _submission_line(exc: BaseException, path: Path) -> int | None:
    """The deepest traceback line that lies in the learner's file."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).name == path.name:
            line = frame.lineno
    return line


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _wait_for_spec(job: Path) -> dict | None:
    """job.json, waiting for the runner to write it; None when the parent is gone."""
    path = job / "job.json"
    parent = os.getppid()
    deadline = time.monotonic() + SPEC_WAIT_S
    while not path.exists():
        if os.getppid() != parent or time.monotonic() > deadline:
            return None
        time.sleep(SPEC_POLL_S)
    return json.loads(path.read_text())


def dir_usage(path: Path, max_files: int) -> tuple[int, int]:
    """(files, bytes) below ``path``, without following links; stops counting past
    four times ``max_files``. The watchers of both executors (the cold one and the
    warm zygote, which has only this file beside it) measure ``out/`` with it."""
    files = total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            files += 1
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
            if files > max_files * 4:
                return files, total
    return files, total


def run_job(job: Path) -> int:
    """Run one phase of one submission; the exit status is informational only."""
    out = job / "out"
    out.mkdir(exist_ok=True)
    source_path = job / "submission.py"

    try:
        source = source_path.read_bytes()
        compile(source, "submission.py", "exec")
    except SyntaxError as exc:
        _error(out, "syntax", f"SyntaxError: {exc.msg}", exc.lineno)
        return 10
    except ValueError as exc:  # e.g. null bytes
        _error(out, "syntax", f"cannot compile the file: {exc}")
        return 10

    import torch
    from safetensors.torch import load_file, save_file

    try:
        submission = _load(source_path, SUBMISSION_MODULE)
    except BaseException as exc:  # noqa: BLE001 - anything the learner's module raises
        _error(out, "import", f"{type(exc).__name__}: {exc}", _submission_line(exc, source_path))
        return 11

    spec = _wait_for_spec(job)
    if spec is None or spec.get("cancel"):
        return 12
    torch.set_num_threads(max(1, int(spec.get("threads", 1))))
    if spec["device"] == "cuda":
        # Comparisons with the float64 reference assume full float32 matmuls.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    # The probe's toolkit first, under the name the probe imports it by.
    kit_path = job / f"{KIT_MODULE}.py"
    kit = _load(kit_path, KIT_MODULE) if kit_path.exists() else None
    probe = _load(job / "probe.py", "_tracker_probe")
    inputs = load_file(str(job / "inputs.safetensors"))
    if kit is not None:
        forbidden = [str(name) for name in spec.get("forbidden_calls") or ()]
        outputs, notes = kit.run_probe(
            probe, submission, spec["phase"], inputs, spec["device"], forbidden
        )
    else:
        outputs, notes = probe.run(submission, spec["phase"], inputs, spec["device"])
    tensors = {}
    seen: set[int] = set()
    for k, v in outputs.items():
        if not isinstance(v, torch.Tensor):
            continue
        tensor = v.detach().to("cpu").contiguous()
        where = tensor.untyped_storage().data_ptr()
        # safetensors refuses tensors that share memory (a submission returning the
        # same tensor twice): each gets a copy of its own, so the judge says what is wrong.
        tensors[str(k)] = tensor.clone() if where in seen else tensor
        seen.add(where)
    save_file(tensors, str(out / "outputs.safetensors"))
    clean = {str(k)[:200]: str(v)[:MAX_NOTE_CHARS] for k, v in list(notes.items())[:MAX_NOTES]}
    (out / "notes.json").write_text(json.dumps(clean))
    return 0


def main(argv: list[str]) -> int:
    job = Path(argv[1])
    os.chdir(job)
    return run_job(job)


if __name__ == "__main__":
    status = main(sys.argv)
    # Skip the interpreter's teardown (a tenth of a second or more with torch
    # loaded): the results are on disk, and the runner waits for this exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
