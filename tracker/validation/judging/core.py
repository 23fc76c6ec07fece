"""The judging toolkit's core: tolerances, untrusted outputs, comparisons, diagnosis.

A learner's submission hands back tensors from a sandbox; everything here treats
them as untrusted input (missing, wrong type, wrong shape, NaN) and turns each
disagreement into a message the learner can act on. The central idea is
*diagnosis by hypothesis*: when numbers disagree with the reference, a lesson
recomputes the reference with one or two plausible mistakes applied (no scaling,
softmax over the wrong axis, ...) and names the mistake whose numbers match.

Tolerances are per dtype and device and live here, in one place, so every lesson
judges alike:

- float64 on any device: the learner and the reference do the same maths in a
  different order, so they agree to ~1e-14 relative; ``FLOAT64`` leaves room for
  longer reductions but still rejects any real mistake.
- float32 on CPU: the learner's float32 output is compared with the float64
  reference; rounding of sums over ~512 terms gives ~1e-6 relative error.
- float32 on CUDA, with TF32 turned off by the probe: cuBLAS may use other
  reduction orders (split-K), so a slightly looser bound than on CPU.
- ``DIAGNOSIS``: a mistaken implementation matches the mistaken reference only
  up to op order (``q / s @ k`` versus ``(q @ k) / s``); looser than ``FLOAT64``
  but far tighter than any two distinct mistakes differ.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from tracker.validation.lesson_api import PhaseResult


@dataclass(frozen=True)
class Tolerance:
    """|actual - expected| <= atol + rtol * |expected|, elementwise (torch.allclose)."""

    rtol: float
    atol: float


FLOAT64 = Tolerance(rtol=1e-7, atol=1e-9)
FLOAT32_CPU = Tolerance(rtol=1e-4, atol=2e-5)
FLOAT32_CUDA = Tolerance(rtol=2e-4, atol=5e-5)
FLOAT16_ANY = Tolerance(rtol=1e-2, atol=1e-3)  # not used by the current lessons; documented
DIAGNOSIS = Tolerance(rtol=1e-6, atol=1e-8)
# Rows of attention weights must sum to one this closely (float64 runs).
ROW_SUM_ATOL = 1e-6
# A gradient entry counts as "zero" below this (float64; exact independence gives 0.0).
ZERO_GRAD_ATOL = 1e-12
# Two eval-mode calls on the same input must agree this closely (any dtype).
DETERMINISM = Tolerance(rtol=1e-6, atol=1e-7)
# q and k scaled by 30 make float32 scores of ~1e3, whose rounding (~1e-4) moves the
# saturated weights: looser than FLOAT32 (correct code is off by ~4e-5 there), still far
# tighter than a clamped or NaN-patched softmax, which is off by whole units.
LARGE_INPUTS = Tolerance(rtol=1e-3, atol=1e-3)

NOTE_LIMIT = 300  # characters of a learner-side note quoted back in a message


def tolerance_for(dtype: torch.dtype, device: str) -> Tolerance:
    """The tolerance for comparing a ``dtype`` output computed on ``device`` with float64."""
    if dtype == torch.float64:
        return FLOAT64
    if dtype == torch.float32:
        return FLOAT32_CUDA if device.startswith("cuda") else FLOAT32_CPU
    return FLOAT16_ANY


def load_sibling(checks_file: str, name: str = "reference") -> ModuleType:
    """Import ``<name>.py`` from the folder of ``checks_file`` (lessons/ is not a package)."""
    path = Path(checks_file).with_name(f"{name}.py")
    module_name = f"_tracker_lesson_{path.parent.name.replace('-', '_')}_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a broken lesson folder
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quote_note(note: str) -> str:
    """A learner-side note (an exception text), shortened for a message."""
    note = " ".join(str(note).split())
    return note if len(note) <= NOTE_LIMIT else note[: NOTE_LIMIT - 3] + "..."


class Outputs:
    """Untrusted probe outputs and notes of one phase, read defensively.

    ``get`` returns a float64 CPU tensor or None; when it returns None,
    ``why(name)`` says why in words (the call raised, nothing came back, wrong
    shape), quoting the probe's note for that name when there is one.
    """

    def __init__(self, result: PhaseResult | None) -> None:
        self.result = result
        self.outputs: Mapping[str, Any] = result.outputs if result is not None else {}
        raw_notes = result.notes if result is not None else {}
        self.notes: dict[str, str] = {
            str(k): str(v) for k, v in raw_notes.items() if isinstance(k, str)
        }
        self._why: dict[str, str] = {}

    @property
    def error(self) -> str | None:
        if self.result is None:
            return "the phase did not run"
        return self.result.error

    def note(self, name: str) -> str | None:
        """The probe's note for ``name`` or for any of its dotted prefixes."""
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            key = ".".join(parts[:end])
            if key in self.notes:
                return quote_note(self.notes[key])
        return None

    def has(self, name: str) -> bool:
        return isinstance(self.outputs.get(name), torch.Tensor)

    def get(self, name: str, shape: Sequence[int] | None = None) -> torch.Tensor | None:
        value = self.outputs.get(name)
        if not isinstance(value, torch.Tensor):
            note = self.note(name)
            self._why[name] = f"raised {note}" if note else "returned nothing"
            return None
        if not (value.is_floating_point() or value.dtype == torch.bool):
            self._why[name] = f"returned a {value.dtype} tensor; expected floating point"
            return None
        if shape is not None and tuple(value.shape) != tuple(shape):
            self._why[name] = f"has shape {tuple(value.shape)}; expected {tuple(shape)}"
            return None
        return value.detach().to("cpu", torch.float64)

    def like(self, expected: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The outputs named in ``expected`` that came back with the expected shapes
        (float64 CPU); ``why(name)`` says what went wrong with the others."""
        found = {}
        for name, tensor in expected.items():
            value = self.get(name, tuple(tensor.shape))
            if value is not None:
                found[name] = value
        return found

    def dtype(self, name: str) -> torch.dtype | None:
        value = self.outputs.get(name)
        return value.dtype if isinstance(value, torch.Tensor) else None

    def why(self, name: str) -> str:
        if name not in self._why:
            self.get(name)
        return self._why.get(name, "is fine")


@dataclass(frozen=True)
class Comparison:
    """How far an output is from what was expected; ``ok`` under the tolerance used."""

    ok: bool
    max_abs: float
    where: tuple[int, ...]
    finite: bool

    def describe(self) -> str:
        if not self.finite:
            return "contains NaN or inf"
        if not self.where:  # a scalar (a loss): one number, no index to point at
            return f"|difference| {self.max_abs:.3g}"
        place = "[" + ", ".join(str(i) for i in self.where) + "]"
        return f"max |difference| {self.max_abs:.3g} at index {place}"


def compare(
    actual: torch.Tensor, expected: torch.Tensor, tol: Tolerance, *, wildcard_nan: bool = False
) -> Comparison:
    """Compare two tensors of the same shape (float64 CPU) elementwise under ``tol``.

    With ``wildcard_nan`` a NaN in ``expected`` accepts any value there: a mistaken
    reference that hides a whole row gives NaN with -inf but a uniform row with -1e9,
    and both are the same mistake.
    """
    actual = actual.to(torch.float64)
    expected = expected.to(torch.float64)
    if wildcard_nan and actual.shape == expected.shape:
        holes = torch.isnan(expected)
        if bool(holes.any()):
            expected = torch.where(holes, torch.nan_to_num(actual, nan=0.0), expected)
            actual = torch.where(holes, expected, actual)
    if actual.shape != expected.shape:
        return Comparison(False, math.inf, (), True)
    finite = bool(torch.isfinite(actual).all())
    if actual.numel() == 0:
        return Comparison(True, 0.0, (), True)
    diff = (actual - expected).abs()
    diff = torch.where(torch.isnan(diff), torch.full_like(diff, math.inf), diff)
    flat = int(torch.argmax(diff))
    where = unravel(flat, tuple(actual.shape))
    ok = finite and bool(torch.allclose(actual, expected, rtol=tol.rtol, atol=tol.atol))
    return Comparison(ok, float(diff.reshape(-1)[flat]), where, finite)


def unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index of element ``flat`` of a C-contiguous ``shape``.

    Plain arithmetic on purpose: ``torch.unravel_index`` imports sympy on its
    first call, which cost a cold submit 0.4 s.
    """
    where = []
    for size in reversed(shape):
        flat, index = divmod(flat, size)
        where.append(index)
    return tuple(reversed(where))


def all_close(
    actual: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], tol: Tolerance
) -> bool:
    """True when every key of ``actual`` is in ``expected`` and agrees under ``tol`` (NaN: any)."""
    return bool(actual) and all(
        name in expected
        and tensor.shape == expected[name].shape
        and compare(tensor, expected[name], tol, wildcard_nan=True).ok
        for name, tensor in actual.items()
    )


@dataclass(frozen=True)
class Mistake:
    """A plausible mistake: its id (understood by a lesson's variant function) and advice."""

    id: str
    message: str
    # Mistakes in the same group are alternatives (two ways to scale); never combined.
    group: str = ""


def diagnose(
    actual: Mapping[str, torch.Tensor],
    variant: Callable[[frozenset[str]], Mapping[str, torch.Tensor]],
    mistakes: Sequence[Mistake],
    *,
    pairs: bool = True,
    tol: Tolerance = DIAGNOSIS,
) -> tuple[Mistake, ...] | None:
    """The mistake (or pair of mistakes) whose reference numbers match ``actual``.

    ``variant(ids)`` recomputes the reference outputs with those mistakes applied,
    for (at least) the keys of ``actual``. Single mistakes are tried first, then
    pairs from different groups. None when nothing matches; ``()`` when the
    correct reference itself matches.
    """
    if not actual:
        return None
    cache: dict[frozenset[str], Mapping[str, torch.Tensor] | None] = {}

    def matches(combo: tuple[Mistake, ...]) -> bool:
        key = frozenset(m.id for m in combo)
        if key not in cache:
            try:
                cache[key] = variant(key)
            except (RuntimeError, ValueError, IndexError):  # a variant undefined for these sizes
                cache[key] = None
        expected = cache[key]
        return expected is not None and all_close(actual, expected, tol)

    if matches(()):
        return ()
    for mistake in mistakes:
        if matches((mistake,)):
            return (mistake,)
    if pairs:
        for first, second in itertools.combinations(mistakes, 2):
            if first.group and first.group == second.group:
                continue
            if matches((first, second)):
                return (first, second)
    return None


def explain(found: Iterable[Mistake]) -> str:
    """One message from a diagnosis: the mistakes' advice joined."""
    return "; and ".join(m.message for m in found)


def describe_shape(shape: Sequence[int]) -> str:
    """``(2, 6, 256)``: a shape as messages write it."""
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def agree(
    actual: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    keys: Iterable[str],
    tol: Tolerance = FLOAT64,
) -> bool:
    """Every one of ``keys`` came back (in ``actual``) and matches ``expected`` under ``tol``."""
    return all(k in actual and compare(actual[k], expected[k], tol).ok for k in keys)


def first_mismatch(
    actual: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    keys: Iterable[str],
    tol: Tolerance = FLOAT64,
) -> tuple[str, Comparison | None] | None:
    """The first of ``keys`` missing (comparison None) or off under ``tol``; None when all agree."""
    for key in keys:
        if key not in actual:
            return key, None
        comparison = compare(actual[key], expected[key], tol)
        if not comparison.ok:
            return key, comparison
    return None


def normal(seed: int) -> Callable[..., torch.Tensor]:
    """``randn(*shape, scale=1.0, dtype=torch.float64)`` drawing from one generator seeded with
    ``seed``: a lesson's ``make_inputs`` draws every tensor from it, so a seed replays a verdict."""
    generator = torch.Generator().manual_seed(seed)

    def randn(*shape: int, scale: float = 1.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        values = torch.randn(*shape, generator=generator, dtype=dtype)
        return values if scale == 1.0 else values * scale

    return randn


def padding_mask(seq_k: int, *hidden: slice | Sequence[int]) -> torch.Tensor:
    """A bool key-padding mask ``(batch, 1, 1, seq_k)``, True keeps; ``hidden[b]`` (a slice
    or key indices) is what batch element b hides: ``padding_mask(7, slice(-2, None), [0])``."""
    mask = torch.ones(len(hidden), 1, 1, seq_k, dtype=torch.bool)
    for row, keys in enumerate(hidden):
        mask[row, ..., keys if isinstance(keys, slice) else list(keys)] = False
    return mask
