"""`tracker submit` and `tracker lesson exercise` through the CLI, against a temp database.

Tests that start torch workers are marked slow; input errors (exit 2) and the
exercise command start none.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path("/work/shared/samples/submissions/multi-head-attention-2")
BANK = ROOT / "tests/submissions/multi-head-attention-2"
LESSON = "multi-head-attention-2"
VERDICT_KEYS = {"lesson", "passed", "recorded", "device", "isolation", "duration_s", "checks"}


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def concept_depth(cli_run, concept: str) -> int:
    result = cli_run("concepts", "--json")
    return next(c["depth"] for c in json.loads(result.stdout) if c["id"] == concept)


def submit_json(cli_run, *args: str):  # -> (exit code, document)
    result = cli_run("submit", *args, "--json")
    return result.exit_code, json.loads(result.stdout), result


# --- input errors: exit 2, one line, no worker -----------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no-such-lesson", "{ok}"), "no lesson 'no-such-lesson'"),
        (("transformer-1", "{ok}"), "lesson 'transformer-1' has no exercise to submit"),
        ((LESSON, "{missing}"), "no such file"),
        ((LESSON, "{dir}"), "is a directory"),
        ((LESSON, "{latin1}"), "is not UTF-8 text (byte 0xe9 at offset 3)"),
        ((LESSON, "{huge}"), "is larger than 256 KiB"),
        ((LESSON, "{ok}", "--device", "tpu"), "'tpu' is not one of"),
        ((LESSON, "{ok}", "--timeout", "0"), "--timeout"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, cli_run, args: tuple, message: str) -> None:
    paths = {
        "ok": tmp_path / "ok.py",
        "missing": tmp_path / "missing.py",
        "dir": tmp_path,
        "latin1": tmp_path / "latin1.py",
        "huge": tmp_path / "huge.py",
    }
    paths["ok"].write_text("x = 1\n")
    paths["latin1"].write_bytes(b"# c\xe9\n")
    paths["huge"].write_text("#" * (300 * 1024))
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in args]
    result = cli_run("submit", *argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) <= 3


def test_unavailable_device_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_run):
    from tracker.validation import device

    monkeypatch.setattr(device, "cuda_available", lambda: False)
    (tmp_path / "ok.py").write_text("x = 1\n")
    result = cli_run("submit", LESSON, str(tmp_path / "ok.py"), "--device", "cuda")
    assert result.exit_code == 2
    assert "--device cuda: CUDA is not available here" in result.output


def test_review_needs_a_passed_lesson(tmp_path: Path, db_path: Path, cli_run) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    result = cli_run("submit", LESSON, str(tmp_path / "ok.py"), "--review")
    assert result.exit_code == 2
    assert "--review is for lessons already passed" in result.output
    assert rows(db_path, "SELECT count(*) FROM submissions") == [(0,)]


# --- lesson exercise -------------------------------------------------------------------------


def test_lesson_exercise_writes_the_skeleton(tmp_path: Path, cli_run) -> None:
    target = tmp_path / "mha.py"
    skeleton = (ROOT / "lessons" / LESSON / "exercise.py").read_text()
    result = cli_run("lesson", "exercise", LESSON, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text() == skeleton
    assert f"tracker submit {LESSON} {target}" in result.output

    target.write_text("my work")
    again = cli_run("lesson", "exercise", LESSON, "-o", str(target))
    assert again.exit_code == 2
    assert f"{target} already exists; use --force to overwrite it" in again.output
    assert target.read_text() == "my work"
    forced = cli_run("lesson", "exercise", LESSON, "-o", str(target), "--force")
    assert forced.exit_code == 0 and target.read_text() == skeleton

    printed = cli_run("lesson", "exercise", LESSON)
    assert printed.exit_code == 0 and printed.stdout == skeleton


@pytest.mark.parametrize(
    ("lesson", "message"),
    [("no-such-lesson", "no lesson 'no-such-lesson'"), ("transformer-1", "has no exercise")],
)
def test_lesson_exercise_refuses_bad_lessons(
    tmp_path: Path, cli_run, lesson: str, message: str
) -> None:
    result = cli_run("lesson", "exercise", lesson, "-o", str(tmp_path / "x.py"))
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x.py").exists()


# --- validation through the CLI (torch workers) ----------------------------------------------


@pytest.mark.slow
def test_sample_correct_passes_and_records_everything(db_path: Path, cli_run) -> None:
    code, document, result = submit_json(cli_run, LESSON, str(SAMPLES / "correct.py"))
    assert code == 0, result.output
    assert VERDICT_KEYS | {"error"} <= set(document)
    assert document["passed"] is True and document["recorded"] is True
    assert document["error"] is None
    assert document["lesson"] == LESSON and document["device"] == "cpu"
    assert document["checks"] and all(c["passed"] for c in document["checks"])
    assert all(set(c) == {"name", "passed", "message", "skipped"} for c in document["checks"])
    assert not any(c["skipped"] for c in document["checks"])
    assert isinstance(document["duration_s"], float)

    assert rows(db_path, "SELECT passed, for_review, device FROM submissions") == [(1, 0, "cpu")]
    sub_id = rows(db_path, "SELECT id FROM submissions")[0][0]
    assert rows(db_path, "SELECT lesson_id, depth, submission_id FROM progress") == [
        (LESSON, 2, sub_id)
    ]
    assert rows(db_path, "SELECT kind, lesson_id, depth FROM study_sessions") == [
        ("submission", LESSON, 2)
    ]
    kinds = [k for (k,) in rows(db_path, "SELECT kind FROM review_cards ORDER BY kind")]
    assert "code" in kinds and "question" in kinds
    stored = json.loads(rows(db_path, "SELECT verdict_json FROM submissions")[0][0])
    assert stored["passed"] is True and stored["seed"] == document["seed"]
    assert concept_depth(cli_run, "multi-head-attention") == 2

    # A depth-1 lesson of the same concept, studied later, never lowers the depth.
    learned = cli_run("learn", "multi-head-attention-1", "--yes", "--force")
    assert learned.exit_code == 0, learned.output
    assert concept_depth(cli_run, "multi-head-attention") == 2


@pytest.mark.slow
def test_sample_wrong_no_scaling_fails_pointing_at_the_mistake(db_path: Path, cli_run) -> None:
    result = cli_run("submit", LESSON, str(SAMPLES / "wrong_no_scaling.py"))
    assert result.exit_code == 1
    assert "✗ numbers_float64: scores look unscaled: divide q @ k^T by sqrt(d_k) = 8" in (
        result.output
    )
    assert "✓ interface" in result.output
    from tracker.validation.sandbox import bubblewrap_works

    isolation = "bubblewrap" if bubblewrap_works() else "rlimits-only"
    assert f"device cpu, isolation {isolation}," in result.output
    assert rows(db_path, "SELECT passed FROM submissions") == [(0,)]
    for table in ("progress", "study_sessions", "review_cards"):
        assert rows(db_path, f"SELECT count(*) FROM {table}") == [(0,)]


@pytest.mark.slow
def test_sample_infinite_loop_times_out(db_path: Path, cli_run) -> None:
    code, document, _ = submit_json(
        cli_run, LESSON, str(SAMPLES / "hostile_infinite_loop.py"), "--timeout", "5"
    )
    assert code == 1
    assert document["passed"] is False and document["recorded"] is False
    assert document["error"] == "timed out after 5 s"
    for table in ("progress", "study_sessions", "review_cards"):
        assert rows(db_path, f"SELECT count(*) FROM {table}") == [(0,)]


@pytest.mark.slow
def test_syntax_error_shows_its_line_once(tmp_path: Path, cli_run) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import torch\n\nclass SimpleMultiHeadAttention(:\n    pass\n")
    code, document, _ = submit_json(cli_run, LESSON, str(broken))
    assert code == 1
    assert document["error"] == "SyntaxError: invalid syntax (line 3)"
    assert document["checks"] and all(c["skipped"] and not c["passed"] for c in document["checks"])
    assert {c["message"] for c in document["checks"]} == {
        "the submission did not run to the end (see the error)"
    }
    text = cli_run("submit", LESSON, str(broken)).output
    assert text.count("SyntaxError") == 1
    assert "  error: SyntaxError: invalid syntax (line 3)\n" in text
    names = ", ".join(c["name"] for c in document["checks"])
    assert f"  - skipped (the submission did not run to the end (see the error)): {names}\n" in text
    assert "✗" not in text


def test_render_verdict_shows_skipped_checks_once_per_reason() -> None:
    from tracker.render.verdict import render_verdict

    def check(name: str, passed: bool, message: str, skipped: bool = False) -> dict:
        return {"name": name, "passed": passed, "message": message, "skipped": skipped}

    document = {
        "lesson": "flash-attention-3",
        "passed": False,
        "error": None,
        "device": "cpu",
        "isolation": "bubblewrap",
        "duration_s": 1.0,
        "checks": [
            check("interface", True, "flash_attention is defined"),
            check("output_shape", False, "the output raised TypeError"),
            check("numbers_float64", False, "see output_shape", skipped=True),
            check("causal", False, "see output_shape", skipped=True),
            check("block_sizes_agree", False, "not every block size ran", skipped=True),
            check("memory", True, "grew by 1 MiB"),
        ],
    }
    lines = render_verdict(document)
    assert lines[1:6] == [
        "  ✓ interface: flash_attention is defined",
        "  ✗ output_shape: the output raised TypeError",
        "  - skipped (see output_shape): numbers_float64, causal",
        "  - skipped (not every block size ran): block_sizes_agree",
        "  ✓ memory: grew by 1 MiB",
    ]


@pytest.mark.slow
def test_missing_class_names_what_was_expected(tmp_path: Path, cli_run) -> None:
    code, document, _ = submit_json(cli_run, LESSON, str(BANK / "wrong_wrong_class_name.py"))
    assert code == 1
    interface = next(c for c in document["checks"] if c["name"] == "interface")
    assert "SimpleMultiHeadAttention" in interface["message"]
    assert not interface["passed"]


@pytest.mark.slow
def test_untouched_skeleton_fails_helpfully(tmp_path: Path, cli_run) -> None:
    target = tmp_path / "mha.py"
    assert cli_run("lesson", "exercise", LESSON, "-o", str(target)).exit_code == 0
    result = cli_run("submit", LESSON, str(target))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "✗ interface:" in result.output
    assert "W_Q" in result.output


@pytest.mark.slow
def test_wrong_submission_records_only_a_failed_row(db_path: Path, cli_run) -> None:
    code, document, _ = submit_json(cli_run, LESSON, str(BANK / "wrong_softmax_heads.py"))
    assert code == 1 and document["passed"] is False
    assert rows(db_path, "SELECT passed, for_review FROM submissions") == [(0, 0)]
    for table in ("progress", "study_sessions", "review_cards", "review_logs"):
        assert rows(db_path, f"SELECT count(*) FROM {table}") == [(0,)]


@pytest.mark.slow
def test_review_submission_rates_the_code_card(db_path: Path, cli_run) -> None:
    assert cli_run("submit", LESSON, str(BANK / "correct.py")).exit_code == 0
    code, document, result = submit_json(
        cli_run, LESSON, str(BANK / "correct_einsum.py"), "--review", "--device", "auto"
    )
    assert code == 0, result.output
    assert document["device"] == "cpu"
    assert document["review"] is not None
    assert rows(db_path, "SELECT for_review, passed FROM submissions ORDER BY id") == [
        (0, 1),
        (1, 1),
    ]
    assert rows(db_path, "SELECT count(*) FROM review_logs WHERE submission_id IS NOT NULL") == [
        (1,)
    ]
    assert rows(db_path, "SELECT count(*) FROM progress") == [(1,)]
    # A review is logged on its card; it is not another study session.
    assert rows(db_path, "SELECT count(*) FROM study_sessions") == [(1,)]


@pytest.mark.slow
def test_positional_encoding_passes_with_device_cpu(db_path: Path, cli_run) -> None:
    bank = ROOT / "tests/submissions/positional-encoding-2/correct_div_term.py"
    code, document, _ = submit_json(cli_run, "positional-encoding-2", str(bank), "--device", "cpu")
    assert code == 0 and document["passed"] and document["device"] == "cpu"


@pytest.mark.slow
@pytest.mark.postgres
def test_pass_recorded_on_postgresql(pg_url: str, cli_run) -> None:
    result = cli_run("--db", pg_url, "submit", LESSON, str(SAMPLES / "correct.py"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["recorded"] is True
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT lesson_id, depth FROM progress")).all() == [
                (LESSON, 2)
            ]
            assert conn.execute(text("SELECT passed FROM submissions")).all() == [(True,)]
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "passes"), [("correct_kv_outer.py", True), ("cheat_full_matrix.py", False)]
)
def test_flash_attention_memory_is_judged_from_separate_workers(
    db_path: Path, cli_run, name: str, passes: bool
) -> None:
    """Three phases, three worker runs; the memory check compares their peak RSS."""
    bank = ROOT / "tests/submissions/flash-attention-3" / name
    code, document, result = submit_json(cli_run, "flash-attention-3", str(bank))
    assert code == (0 if passes else 1), result.output
    assert set(document["phases"]) == {"main", "memory_baseline", "memory"}
    assert all(p["peak_rss_bytes"] > 100 * 2**20 for p in document["phases"].values())
    memory = next(c for c in document["checks"] if c["name"] == "memory")
    assert memory["passed"] is passes
    if not passes:
        assert "the full seq x seq matrix is being built" in memory["message"]


@pytest.mark.slow
def test_fused_attention_fails_flash_attention_naming_the_call(db_path: Path, cli_run) -> None:
    """The honest shortcut: PyTorch's fused kernel passes every numeric and memory check,
    and fails only the check the lesson's forbidden calls add, which names it."""
    bank = ROOT / "tests/submissions/flash-attention-3/cheat_sdpa.py"
    code, document, result = submit_json(cli_run, "flash-attention-3", str(bank))
    assert code == 1, result.output
    failed = {c["name"]: c["message"] for c in document["checks"] if not c["passed"]}
    assert list(failed) == ["no_forbidden_calls"], failed
    assert failed["no_forbidden_calls"].startswith(
        "the submission calls torch.nn.functional.scaled_dot_product_attention (dispatched to "
        "aten::_scaled_dot_product_flash_attention_for_cpu), which this lesson forbids: the "
        "fused kernel does the tiling for you; write it yourself"
    )
    assert [c["name"] for c in document["checks"]][:2] == ["interface", "no_forbidden_calls"]
    assert rows(db_path, "SELECT count(*) FROM progress") == [(0,)]


def test_a_fifo_is_refused_rather_than_read_forever(tmp_path: Path, cli_run) -> None:
    fifo = tmp_path / "f.py"
    os.mkfifo(fifo)
    result = cli_run("submit", LESSON, str(fifo))
    assert result.exit_code == 2
    assert "is not a regular file" in result.output
