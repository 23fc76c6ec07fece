"""The judging toolkit: what every lesson's checks.py is written with (trusted side).

A checks.py is mostly data (its cases, sizes, a ``Mistake`` table) plus the few checks
particular to its lesson; the rest is here, in three modules:

- ``core``: tolerances, ``Outputs`` (untrusted probe results read defensively),
  ``compare`` / ``agree`` / ``first_mismatch``, ``diagnose`` and ``Mistake``, and input
  helpers (``normal``, ``padding_mask``).
- ``attention``: attention with named mistakes applied (``attention``), for diagnosis,
  with head split/merge and projections, and the standard mask mistakes.
- ``standard``: the judge's opening (``judged``, ``opening``: an error skips every
  check, a "construct" note fails the interface and skips the rest), ``skipped``, and
  the standard checks: numbers, float32 agreement, large inputs, masking.

The sandbox side is ``probe_kit`` (tracker/validation/probe_kit.py); docs/lessons.md is the
guide for lesson authors.
"""

from tracker.validation.judging.attention import (
    COMMON_MASK_MISTAKES,
    MASK_MISTAKES,
    attention,
    causal_hidden,
    copy_linears,
    linear,
    mask_mistakes,
    masked_scores,
    merge_heads,
    scale_of,
    split_heads,
)
from tracker.validation.judging.core import (
    DETERMINISM,
    DIAGNOSIS,
    FLOAT16_ANY,
    FLOAT32_CPU,
    FLOAT32_CUDA,
    FLOAT64,
    LARGE_INPUTS,
    ROW_SUM_ATOL,
    ZERO_GRAD_ATOL,
    Comparison,
    Mistake,
    Outputs,
    Tolerance,
    agree,
    all_close,
    compare,
    describe_shape,
    diagnose,
    explain,
    first_mismatch,
    load_sibling,
    normal,
    padding_mask,
    quote_note,
    tolerance_for,
    unravel,
)
from tracker.validation.judging.standard import (
    DID_NOT_RUN,
    INTERFACE_FAILED,
    Inputs,
    Results,
    define,
    finite_check,
    float32_check,
    judged,
    masking_check,
    numbers_check,
    opening,
    skip_all,
    skipped,
)
from tracker.validation.lesson_api import CheckResult, PhaseResult

__all__ = [
    "COMMON_MASK_MISTAKES",
    "DETERMINISM",
    "DIAGNOSIS",
    "DID_NOT_RUN",
    "FLOAT16_ANY",
    "FLOAT32_CPU",
    "FLOAT32_CUDA",
    "FLOAT64",
    "INTERFACE_FAILED",
    "LARGE_INPUTS",
    "MASK_MISTAKES",
    "ROW_SUM_ATOL",
    "ZERO_GRAD_ATOL",
    "CheckResult",
    "Inputs",
    "Comparison",
    "Mistake",
    "Outputs",
    "PhaseResult",
    "Results",
    "Tolerance",
    "agree",
    "all_close",
    "attention",
    "causal_hidden",
    "compare",
    "copy_linears",
    "define",
    "describe_shape",
    "diagnose",
    "explain",
    "finite_check",
    "first_mismatch",
    "float32_check",
    "judged",
    "linear",
    "load_sibling",
    "mask_mistakes",
    "masked_scores",
    "masking_check",
    "merge_heads",
    "normal",
    "numbers_check",
    "opening",
    "padding_mask",
    "quote_note",
    "scale_of",
    "skip_all",
    "skipped",
    "split_heads",
    "tolerance_for",
    "unravel",
]
