"""Trusted checks for flash-attention-3: numbers against PyTorch's attention, and memory.

Numbers: float64 against ``torch.nn.functional.scaled_dot_product_attention``
(the trusted reference for the maths; reference.py is the tiled reference that
must pass these same checks), causal and not, at seq 100 so the last block is
partial, at two block sizes that must agree, and with inputs scaled by 30.

Memory: the phases "memory_baseline" (seq 256) and "memory" (seq 8192, d_head 64,
float32) each run in their own worker; the runner measures each worker's peak
RSS from outside. They run on the CPU whatever ``--device`` says
(``PHASE_DEVICES``): the kernel's figure for a process is one the learner's code
cannot touch, while a CUDA peak could only be read inside that process. A full 8192 x 8192 float32
score matrix is 256 MiB, and a softmax over it allocates another, so an
implementation that builds it needs >= 256 MiB more than the baseline; a tiled one
needs tens of MiB (tiles, the 2 MiB output, allocator slack: 76 MiB measured for
key-outer tiling of all 8192 queries). The allowance, 128 MiB, sits between.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812

from tracker.validation import judging
from tracker.validation.judging import CheckResult, Inputs, Mistake, Outputs, Results

reference = judging.load_sibling(__file__)

PHASES = ("main", "memory_baseline", "memory")
PHASE_DEVICES = {"memory_baseline": "cpu", "memory": "cpu"}
# Phases whose peak memory matters; tests/lesson_harness.py runs these in a child process.
SUBPROCESS_PHASES = ("memory_baseline", "memory")
ENTRY = "flash_attention"
BATCH, HEADS, SEQ, SHORT_SEQ, D_HEAD = 2, 2, 100, 10, 16
MEM_SEQ, MEM_BASE_SEQ, MEM_D_HEAD, MEM_BLOCK = 8192, 256, 64, 256
MIB = 1 << 20
MEMORY_ALLOWANCE_BYTES = 128 * MIB
FULL_MATRIX_BYTES = MEM_SEQ * MEM_SEQ * 4
LARGE_SCALE = 30.0
CASES = {  # name: (causal, block_size; 0 = the default), run in float64 on the CPU
    "nc": (0, 0),
    "c": (1, 0),
    "nc16": (0, 16),
    "c16": (1, 16),
    "short": (1, 0),
}
F32_CASES = {"f32nc": (0, 0), "f32c": (1, 0), "f32large": (1, 0)}
CHECKS = (
    "interface",
    "output_shape",
    "numbers_float64",
    "causal",
    "block_sizes_agree",
    "numbers_float32",
    "finite_large_inputs",
    "memory",
)
INTERFACE = judging.define(f"{ENTRY}(q, k, v, causal=False, block_size=64) returning the output")
MISTAKES = (
    Mistake(
        "no_rescale",
        "the running sum and accumulator are not rescaled when the row "
        "max grows: multiply both l and acc by exp(m_old - m_new) at every key block",
        "online",
    ),
    Mistake(
        "no_rescale_acc",
        "the accumulator is not rescaled when the row max grows: "
        "acc = acc * exp(m_old - m_new) + p @ v_blk (l is rescaled already)",
        "online",
    ),
    Mistake(
        "no_scale",
        f"scores are not scaled: multiply q @ k^T by 1 / sqrt(d_head) = 1/{math.sqrt(D_HEAD):g}",
        "scale",
    ),
    Mistake(
        "causal_excludes_diagonal",
        "the causal mask also hides the diagonal: query i "
        "attends to keys 0..i inclusive (mask where key > query, not key >= query)",
        "causal",
    ),
    Mistake(
        "causal_one_ahead",
        "the causal mask is off by one: query i may also see key i+1; "
        "mask where key_index > query_index",
        "causal",
    ),
    Mistake("causal_ignored", "causal=True has no effect: hide keys after each query", "causal"),
    Mistake(
        "causal_block_only",
        "the causal mask is applied per block only by skipping "
        "future blocks; inside the diagonal block, keys after the query must be masked too",
        "causal",
    ),
    Mistake(
        "drop_partial",
        "the last, partial block is skipped: loop with "
        "range(0, seq, block_size) and slice to min(start + block_size, seq)",
        "partial",
    ),
)


def make_inputs(phase: str, seed: int) -> dict[str, torch.Tensor]:
    randn = judging.normal(seed)
    inputs: dict[str, torch.Tensor] = {}

    def case(
        name: str,
        shape: tuple[int, ...],
        args: tuple[int, int],
        dtype: torch.dtype,
        scale: float = 1.0,
    ) -> None:
        for n in ("q", "k", "v"):
            inputs[f"{name}.{n}"] = randn(*shape, dtype=dtype) * (scale if n != "v" else 1.0)
        inputs[f"{name}.args"] = torch.tensor(args, dtype=torch.int64)

    if phase == "main":
        shape = (BATCH, HEADS, SEQ, D_HEAD)
        case("nc", shape, CASES["nc"], torch.float64)
        for name in ("c", "nc16", "c16"):
            for n in ("q", "k", "v"):
                inputs[f"{name}.{n}"] = inputs[f"nc.{n}"].clone()  # safetensors: no sharing
            inputs[f"{name}.args"] = torch.tensor(CASES[name], dtype=torch.int64)
        case("short", (BATCH, HEADS, SHORT_SEQ, D_HEAD), CASES["short"], torch.float64)
        for name in ("f32nc", "f32c"):
            for n in ("q", "k", "v"):
                inputs[f"{name}.{n}"] = inputs[f"nc.{n}"].float()
            inputs[f"{name}.args"] = torch.tensor(F32_CASES[name], dtype=torch.int64)
        case("f32large", shape, F32_CASES["f32large"], torch.float32, LARGE_SCALE)
    else:
        seq = MEM_SEQ if phase == "memory" else MEM_BASE_SEQ
        case("mem", (1, 1, seq, MEM_D_HEAD), (0, MEM_BLOCK), torch.float32)
    return inputs


def _variant(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool,
    block: int,
    mistakes: frozenset[str],
) -> torch.Tensor:
    """Tiled attention with the named mistakes; NaN marks rows a mistake leaves undefined."""
    seq, d = q.shape[-2], q.shape[-1]
    scale = 1.0 if "no_scale" in mistakes else 1.0 / math.sqrt(d)
    limit = (seq // block) * block if "drop_partial" in mistakes else seq
    out = torch.full_like(q, math.nan)
    for qs in range(0, limit, block):
        qe = qs + block if "drop_partial" in mistakes else min(qs + block, seq)
        m = torch.full((*q.shape[:-2], qe - qs, 1), -math.inf, dtype=q.dtype)
        l = torch.zeros_like(m)  # noqa: E741
        acc = torch.zeros(*q.shape[:-2], qe - qs, d, dtype=q.dtype)
        for ks in range(0, limit, block):
            ke = ks + block if "drop_partial" in mistakes else min(ks + block, seq)
            if causal and "causal_ignored" not in mistakes and ks > qe - 1:
                continue
            s = q[..., qs:qe, :] @ k[..., ks:ke, :].transpose(-2, -1) * scale
            if causal and not mistakes & {"causal_ignored", "causal_block_only"}:
                rows, cols = torch.arange(qs, qe)[:, None], torch.arange(ks, ke)[None, :]
                s = s.masked_fill(judging.causal_hidden(rows, cols, mistakes), -math.inf)
            m_new = torch.maximum(m, s.amax(dim=-1, keepdim=True))
            p = torch.exp(s - m_new)
            correction = torch.exp(m - m_new)
            if "no_rescale" in mistakes:
                correction = torch.ones_like(correction)
            l = l * correction + p.sum(dim=-1, keepdim=True)  # noqa: E741
            acc = (acc if "no_rescale_acc" in mistakes else acc * correction) + p @ v[..., ks:ke, :]
            m = m_new
        out[..., qs:qe, :] = acc / l
    return out


@judging.judged(CHECKS, INTERFACE)
def judge(got: Outputs, inputs: Inputs, results: Results, device: str) -> list[CheckResult]:
    data = inputs["main"]

    def args(case: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool, int]:
        causal, block = CASES.get(case) or F32_CASES[case]
        q, k, v = (data[f"{case}.{n}"].double() for n in ("q", "k", "v"))
        return q, k, v, bool(causal), block or 64

    expected = {
        f"{c}.out": F.scaled_dot_product_attention(*args(c)[:3], is_causal=args(c)[3])
        for c in (*CASES, *F32_CASES)
    }
    actual = got.like({f"{c}.out": expected[f"{c}.out"] for c in CASES})

    def variant(mistakes: frozenset[str]) -> dict[str, torch.Tensor]:
        return {f"{c}.out": _variant(*args(c), mistakes) for c in CASES}

    plain = {"nc.out": f"non-causal at seq {SEQ}", "nc16.out": "non-causal, block_size=16"}
    plain_ok = judging.agree(actual, expected, plain)
    causal_ok = judging.agree(actual, expected, ("c.out", "c16.out", "short.out"))
    found = None if plain_ok and causal_ok else judging.diagnose(actual, variant, MISTAKES)
    causal_found = tuple(m for m in found or () if m.group == "causal")
    f32 = {"f32nc.out": "non-causal", "f32c.out": "causal"}
    return [
        CheckResult("interface", True, f"{ENTRY} is defined"),
        _output_shape(got, data),
        judging.numbers_check(
            got,
            actual,
            expected,
            plain,
            found=tuple(m for m in found or () if m.group != "causal"),
            passed=f"non-causal output matches PyTorch's attention at seq {SEQ} (a partial "
            "last block), blocks 64 and 16",
            advice="the non-causal output differs from softmax(q k^T / sqrt(d)) v",
        ),
        _causal(causal_ok, causal_found, plain_ok),
        _block_sizes(actual),
        judging.float32_check(got, expected, f32, device, numbers_ok=plain_ok and causal_ok),
        judging.finite_check(
            got,
            "f32large.out",
            tuple(expected["f32large.out"].shape),
            scaled=f"q and k scaled by {LARGE_SCALE:g}",
            expected=expected["f32large.out"],
            nan_advice="start m at -inf, subtract the running max before exp, and rescale by "
            "exp(m_old - m_new)",
        ),
        _memory(inputs, results, device),
    ]


def _output_shape(got: Outputs, data: dict[str, torch.Tensor]) -> CheckResult:
    for case, (causal, block) in CASES.items():
        if got.get(f"{case}.out", data[f"{case}.q"].shape) is None:
            call = f"causal={bool(causal)}" + (f", block_size={block}" if block else "")
            shape = judging.describe_shape(tuple(data[f"{case}.q"].shape))
            return CheckResult(
                "output_shape",
                False,
                f"{ENTRY}(q, k, v, {call}) on {shape} inputs: the output {got.why(case + '.out')}",
            )
    return CheckResult("output_shape", True, "output has the shape of q")


def _causal(causal_ok: bool, found: tuple[Mistake, ...], plain_ok: bool) -> CheckResult:
    if causal_ok:
        return CheckResult("causal", True, "causal=True matches PyTorch's is_causal")
    if found:
        return CheckResult("causal", False, judging.explain(found))
    if not plain_ok:
        return CheckResult("causal", False, "causal outputs differ too; fix numbers_float64 first")
    return CheckResult(
        "causal",
        False,
        "causal outputs differ from PyTorch's is_causal=True: query i sees keys 0..i, including i",
    )


def _block_sizes(actual: dict[str, torch.Tensor]) -> CheckResult:
    name = "block_sizes_agree"
    pairs = (("nc", "nc16"), ("c", "c16"))
    if not all(f"{a}.out" in actual and f"{b}.out" in actual for a, b in pairs):
        return judging.skipped(name, "not every block size ran (see output_shape)")
    if any(
        not judging.compare(actual[f"{b}.out"], actual[f"{a}.out"], judging.FLOAT64).ok
        for a, b in pairs
    ):
        return CheckResult(
            name,
            False,
            "block_size 64 and 16 give different outputs: the result must not depend on the "
            "tiling (online rescaling, partial blocks)",
        )
    return CheckResult(name, True, "block sizes 64 and 16 agree")


def _memory(inputs: Inputs, results: Results, device: str) -> CheckResult:
    name = "memory"
    base, big = results.get("memory_baseline"), results.get("memory")
    if base is None or big is None:
        return CheckResult(name, False, "the memory phases did not run")
    for label, result in (
        ("the small call (seq 256)", base),
        (f"the large call (seq {MEM_SEQ})", big),
    ):
        if result.error:
            return CheckResult(name, False, f"{label} did not finish: {result.error}")
    got = Outputs(big)
    data = inputs["memory"]
    out = got.get("mem.out", (1, 1, MEM_SEQ, MEM_D_HEAD))
    if out is None:
        return CheckResult(
            name, False, f"the large call (seq {MEM_SEQ}): the output {got.why('mem.out')}"
        )
    q, k, v = (data[f"mem.{n}"].double() for n in ("q", "k", "v"))
    rows = torch.cat([torch.arange(64), torch.arange(MEM_SEQ - 64, MEM_SEQ)])
    expected = F.scaled_dot_product_attention(q[..., rows, :], k, v)
    comparison = judging.compare(
        out[..., rows, :], expected, judging.tolerance_for(torch.float32, device)
    )
    if not comparison.ok:
        return CheckResult(
            name,
            False,
            f"the large call (seq {MEM_SEQ}) gives wrong numbers ({comparison.describe()})",
        )
    # The kernel's figure from outside each worker (the memory phases run on the CPU).
    base_peak, big_peak, what = int(base.peak_rss_bytes), int(big.peak_rss_bytes), "peak RSS"
    if big_peak <= 0 or base_peak <= 0:
        return CheckResult(name, False, f"{what} was not measured, so memory cannot be judged")
    extra = big_peak - base_peak
    if extra > MEMORY_ALLOWANCE_BYTES:
        return CheckResult(
            name,
            False,
            f"seq {MEM_SEQ}, d_head {MEM_D_HEAD}: {what} grew by {extra / MIB:.0f} "
            f"MiB over the seq-{MEM_BASE_SEQ} call (allowed {MEMORY_ALLOWANCE_BYTES // MIB} MiB; "
            f"the full score matrix is {FULL_MATRIX_BYTES // MIB} MiB): the full seq x seq "
            "matrix is being built; compute one (block, block) tile of scores at a time",
        )
    return CheckResult(
        name,
        True,
        f"seq {MEM_SEQ}: {what} grew by {max(extra, 0) / MIB:.0f} "
        f"MiB (allowed {MEMORY_ALLOWANCE_BYTES // MIB} MiB)",
    )
