"""The probe's toolkit: call the learner's code, keep what it returns, record forbidden calls.

Every lesson's probe.py runs inside the sandbox, which hides the tracker package, so this
module imports only the standard library and torch. The runner copies it into each job
directory beside probe.py and worker.py (``runner._new_job``); the worker loads it before
the probe, which then simply does ``import probe_kit``. The test harness loads the same
file the same way.

A probe.py is a ``run(submission, phase, inputs, device)``; the ``probe`` decorator writes
its opening (find the entry point, or note that it is missing). ``Probe`` collects one
phase's outputs and notes: ``attempt(key)`` turns any exception of a sub-probe into the
note ``key``, ``keep(name, value)`` checks and stores a tensor, and ``call(fn, ...)`` runs
learner code (under ``no_grad`` unless asked, and under the forbidden-call recorder when
the lesson declares forbidden calls).

``Recorder`` watches the learner's code only while it runs, with three instruments:
a ``TorchFunctionMode`` (Python-level torch functions such as
``torch.nn.functional.scaled_dot_product_attention``, and ``torch.ops.aten`` calls), a
``TorchDispatchMode`` op log (the aten operators the dispatcher runs, whatever called
them) and a global module forward pre-hook (``nn.Module`` classes such as
``torch.nn.MultiheadAttention``). It reports names, never blocks anything, and does not
stop a learner who deliberately switches it off: it is there for the honest shortcut.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import importlib
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

NOTE_CHARS = 500
# Notes this module adds to each phase (read by tracker.validation.forbidden).
CALLS_NOTE = "forbidden.calls"
WATCHED_NOTE = "forbidden.watched"
UNRESOLVED_NOTE = "forbidden.unresolved"
_CACHE_LIMIT = 4096


def describe(exc: BaseException) -> str:
    """An exception as a note: ``TypeError: ...``, shortened."""
    return f"{type(exc).__name__}: {exc}"[:NOTE_CHARS]


def _resolve(name: str) -> object | None:
    """The object a dotted name refers to (``torch.nn.MultiheadAttention``), or None."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                value = getattr(value, attribute)
        except AttributeError:
            return None
        return value
    return None


def _op_name(func: object) -> str | None:
    """``aten::name`` of an operator (overload or packet), else None."""
    schema = getattr(func, "_schema", None)
    if schema is not None:
        return str(schema.name)
    qualified = getattr(func, "_qualified_op_name", None)
    return str(qualified) if isinstance(qualified, str) else None


class _FunctionLog(TorchFunctionMode):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_function__(
        self, func: Any, _types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        self.recorder.saw(func)
        return func(*args, **(kwargs or {}))


class _DispatchLog(TorchDispatchMode):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # By default torch wraps __torch_dispatch__ to keep torch.compile out of it, and
        # that wrapper imports torch._dynamo (1.3 s, sympy included) on the first op.
        return False

    def __torch_dispatch__(
        self, func: Any, _types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        self.recorder.saw(func)
        # The operator's C++ entry point, past OpOverload.__call__: a third of this
        # mode's cost per operation, which every op of the learner's code pays.
        call = getattr(func, "_op", func)
        return call(*args, **kwargs) if kwargs else call(*args)


class Recorder:
    """Which of ``names`` ran while the learner's code ran (``with recorder:``).

    ``names`` are dotted names under torch (functions; ``nn.Module`` classes, whose
    forward counts) and ``aten::`` patterns with shell wildcards. Re-entrant: nested
    ``with`` blocks count as one.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.functions: dict[object, str] = {}
        self.classes: list[tuple[type, str]] = []
        self.patterns = [name for name in names if name.startswith("aten::")]
        self.unresolved: list[str] = []
        for name in names:
            if name.startswith("aten::"):
                continue
            value = _resolve(name)
            if isinstance(value, type) and issubclass(value, torch.nn.Module):
                self.classes.append((value, name))
            elif callable(value):
                self.functions.setdefault(value, name)  # aliases: the first name declared
            else:
                self.unresolved.append(name)
        self.ran: dict[str, None] = {}  # an ordered set
        self.watched = 0
        self._verdicts: dict[object, str | None] = {}
        self._depth = 0
        self._stack: contextlib.ExitStack | None = None

    def saw(self, func: object) -> None:
        """Note ``func`` (a torch function or an operator) if it is forbidden."""
        try:
            name = self._verdicts[func]
        except KeyError:
            name = self._judge(func)
            if len(self._verdicts) < _CACHE_LIMIT:
                self._verdicts[func] = name
        except TypeError:  # unhashable
            name = self._judge(func)
        if name is not None:
            self.ran.setdefault(name, None)

    def _judge(self, func: object) -> str | None:
        try:
            if func in self.functions:
                return self.functions[func]
        except TypeError:
            pass
        op = _op_name(func)
        if op is not None and any(fnmatch.fnmatchcase(op, p) for p in self.patterns):
            return op
        return None

    def _module_hook(self, module: torch.nn.Module, args: object) -> None:
        for cls, name in self.classes:
            if isinstance(module, cls):
                self.ran.setdefault(name, None)

    def __enter__(self) -> Recorder:
        self._depth += 1
        if self._depth == 1:
            self.watched += 1
            stack = contextlib.ExitStack()
            if self.classes:
                hook = torch.nn.modules.module.register_module_forward_pre_hook(self._module_hook)
                stack.callback(hook.remove)
            if self.functions or self.patterns:
                stack.enter_context(_FunctionLog(self))
            if self.patterns:
                stack.enter_context(_DispatchLog(self))
            self._stack = stack
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()

    def notes(self) -> dict[str, str]:
        notes = {CALLS_NOTE: ",".join(self.ran), WATCHED_NOTE: str(self.watched)}
        if self.unresolved:
            notes[UNRESOLVED_NOTE] = ",".join(self.unresolved)
        return notes


_recorder: Recorder | None = None


def watching() -> contextlib.AbstractContextManager:
    """Learner code runs inside this: under the recorder when the lesson forbids calls."""
    return _recorder if _recorder is not None else contextlib.nullcontext()


def run_probe(
    probe: types.ModuleType,
    submission: types.ModuleType,
    phase: str,
    inputs: dict[str, torch.Tensor],
    device: str,
    forbidden_calls: Sequence[str] = (),
) -> tuple[dict[str, Any], dict[str, str]]:
    """``probe.run(...)`` with the recorder set up for ``forbidden_calls``; what the
    recorder saw joins the notes. The worker (and the test harness) call this."""
    global _recorder
    _recorder = Recorder(forbidden_calls) if forbidden_calls else None
    try:
        outputs, notes = probe.run(submission, phase, inputs, device)
    finally:
        recorder, _recorder = _recorder, None
    notes = dict(notes)
    if recorder is not None:
        notes.update(recorder.notes())
    return outputs, notes


def pair(result: object, first: str = "output", second: str = "weights") -> tuple[Any, Any]:
    """A result that must be a tuple of two tensors ``(first, second)``, else TypeError."""
    expected = f"expected a tuple ({first}, {second})"
    if isinstance(result, torch.Tensor):
        raise TypeError(f"returned one tensor; {expected}")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise TypeError(f"returned {type(result).__name__}; {expected}")
    return result[0], result[1]


def output_and_extra(result: object) -> tuple[Any, Any]:
    """``(output, second or None)`` of a result that is a tensor or a tuple starting with one
    (``forward`` returning ``output`` or ``(output, attention_weights)``)."""
    if isinstance(result, tuple | list):
        return (result[0] if result else None), (result[1] if len(result) > 1 else None)
    return result, None


def load_linears(
    module: torch.nn.Module,
    inputs: Mapping[str, torch.Tensor],
    prefix: str,
    layers: Sequence[str],
    *,
    entry: str,
    bias_required: bool,
) -> list[str]:
    """Copy trusted ``{prefix}{layer}.weight`` / ``.bias`` into the learner's linear layers
    through their public attributes; the layers without a bias (allowed unless
    ``bias_required``). Raises with a message that names what is missing or mis-shaped."""
    no_bias = []
    with torch.no_grad():
        for name in layers:
            layer = getattr(module, name, None)
            if layer is None:
                raise AttributeError(f"{entry} has no attribute {name} (an nn.Linear)")
            weight = getattr(layer, "weight", None)
            if not isinstance(weight, torch.Tensor):
                raise TypeError(f"{name} is {type(layer).__name__}, which has no .weight tensor")
            wanted = inputs[f"{prefix}{name}.weight"]
            if tuple(weight.shape) != tuple(wanted.shape):
                raise ValueError(
                    f"{name}.weight has shape {tuple(weight.shape)}; expected "
                    f"{tuple(wanted.shape)} (out_features, in_features)"
                )
            weight.copy_(wanted)
            bias = getattr(layer, "bias", None)
            if isinstance(bias, torch.Tensor):
                bias.copy_(inputs[f"{prefix}{name}.bias"])
            elif bias_required:
                raise ValueError(f"{name} has no bias; use nn.Linear(...) with bias=True")
            else:
                no_bias.append(name)
    return no_bias


class Probe:
    """One phase's outputs (tensors, brought to the CPU) and notes (short texts)."""

    def __init__(self, submission: types.ModuleType, device: str) -> None:
        self.submission = submission
        self.device = device
        self.outputs: dict[str, torch.Tensor] = {}
        self.notes: dict[str, str] = {}
        if device.startswith("cuda"):  # comparisons with float64 assume full float32 matmuls
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False

    def function(self, name: str) -> Callable[..., Any] | None:
        """The submission's function ``name``; None, with a "construct" note, when missing."""
        fn = getattr(self.submission, name, None)
        if not callable(fn):
            self.notes["construct"] = f"the file defines no function {name}"
            return None
        return fn

    def entry(self, name: str) -> Any:
        """The submission's class (or other object) ``name``; None, with a note, when missing."""
        value = getattr(self.submission, name, None)
        if value is None:
            self.notes["construct"] = f"the file defines no {name}"
        return value

    @contextlib.contextmanager
    def attempt(self, key: str) -> Iterator[None]:
        """Run a sub-probe; an exception becomes the note ``key`` and hides nothing else."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - any learner error becomes a note
            self.notes[key] = describe(exc)

    def call(self, fn: Callable[..., Any], *args: Any, grad: bool = False, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``: learner code, watched, under ``no_grad`` unless ``grad``."""
        with watching(), contextlib.nullcontext() if grad else torch.no_grad():
            return fn(*args, **kwargs)

    def keep(self, name: str, value: object) -> torch.Tensor:
        """Store a tensor the learner's code returned (TypeError for anything else)."""
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"returned {type(value).__name__}, not a tensor")
        kept = value.detach().to("cpu").contiguous()
        self.outputs[name] = kept
        return kept

    def result(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """What ``probe.run`` returns."""
        return self.outputs, self.notes


Inputs = dict[str, torch.Tensor]
ProbeRun = Callable[[types.ModuleType, str, Inputs, str], tuple[dict[str, Any], dict[str, str]]]


def probe(entry: str, *, kind: str = "function") -> Callable[[Callable[..., None]], ProbeRun]:
    """Decorate a probe body ``(probe, entry, phase, inputs) -> None`` into the
    ``run(submission, phase, inputs, device)`` the worker calls: it finds the submission's
    ``entry`` (``kind`` as in lesson.toml: a "function", or a "module", the class the
    learner defines; when it is missing, a "construct" note is all the phase returns),
    runs the body with a fresh ``Probe`` and returns that probe's outputs and notes.

        @probe_kit.probe("flash_attention")
        def run(probe: Probe, fn: Callable, phase: str, inputs: Inputs) -> None:
    """
    if kind not in ("function", "module"):
        raise ValueError(f"kind must be 'function' or 'module', not {kind!r}")

    def decorate(body: Callable[..., None]) -> ProbeRun:
        @functools.wraps(body)
        def run(
            submission: types.ModuleType, phase: str, inputs: Inputs, device: str
        ) -> tuple[dict[str, Any], dict[str, str]]:
            found = Probe(submission, device)
            value = found.function(entry) if kind == "function" else found.entry(entry)
            if value is not None:
                body(found, value, phase, inputs)
            return found.result()

        return run

    return decorate


def case_names(inputs: Mapping[str, torch.Tensor], suffix: str) -> list[str]:
    """The sorted names ``X`` of inputs called ``X<suffix>`` (``case_names(inputs, ".q")``)."""
    return sorted(key[: -len(suffix)] for key in inputs if key.endswith(suffix))
