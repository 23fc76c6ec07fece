"""docs/lessons.md's complete example lesson, built from the page's own code blocks and
judged like a shipped lesson: the guide the next lesson authors follow has to run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lesson_harness import judge_submission

from tracker.curriculum.loader import load_curriculum

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "lessons.md"
CURRICULUM = """
[categories]
examples = "Examples"

[[concepts]]
id = "example"
title = "Example"
category = "examples"
target_depth = 1
"""
SUBMISSIONS = {
    "correct.py": "import math\ndef attention_scores(q, k):\n"
    "    return (q / math.sqrt(q.shape[-1])) @ k.mT\n",
    "wrong_no_scale.py": "def attention_scores(q, k):\n    return q @ k.transpose(-2, -1)\n",
    "cheat_einsum.py": "import math, torch\ndef attention_scores(q, k):\n"
    "    return torch.einsum('...id,...jd->...ij', q, k) / math.sqrt(q.shape[-1])\n",
    "exercise.py": "def attention_scores(q, k):\n"
    "    raise NotImplementedError('attention_scores is not written yet')\n",
    "missing.py": "def scores(q, k):\n    return q @ k.mT\n",
}


@pytest.fixture(scope="module")
def lessons(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("guide") / "lessons"
    folder = root / "example-1"
    folder.mkdir(parents=True)
    blocks = re.findall(r"```(?:python|toml) ([\w.]+)\n(.*?)```", GUIDE.read_text(), re.S)
    assert sorted(name for name, _ in blocks) == [
        "checks.py",
        "lesson.toml",
        "probe.py",
        "reference.py",
    ]
    for name, text in blocks:
        (folder / name).write_text(text)
    (folder / "exercise.py").write_text(SUBMISSIONS["exercise.py"])
    (folder / "lesson.md").write_text("# Scaled attention scores\n")
    (root / "curriculum.toml").write_text(CURRICULUM)
    return root


def judged(lessons: Path, tmp_path: Path, name: str) -> dict[str, tuple[bool, bool, str]]:
    path = tmp_path / name
    path.write_text(SUBMISSIONS[name])
    return {
        r.name: (r.passed, r.skipped, r.message)
        for r in judge_submission("example-1", path, lessons=lessons)
    }


def test_the_example_is_a_valid_lesson(lessons: Path) -> None:
    exercise = load_curriculum(lessons).lessons["example-1"].exercise
    assert exercise is not None and exercise.forbidden_calls == ("torch.einsum",)


def test_the_reference_and_a_right_submission_pass(lessons: Path, tmp_path: Path) -> None:
    (tmp_path / "correct.py").write_text(SUBMISSIONS["correct.py"])
    for path in (lessons / "example-1" / "reference.py", tmp_path / "correct.py"):
        results = judge_submission("example-1", path, lessons=lessons)
        assert [r.name for r in results] == [
            "interface",
            "no_forbidden_calls",
            "numbers_float64",
            "numbers_float32",
        ]
        assert all(r.passed for r in results), [r.message for r in results]


def test_the_mistake_is_named(lessons: Path, tmp_path: Path) -> None:
    passed, _, message = judged(lessons, tmp_path, "wrong_no_scale.py")["numbers_float64"]
    assert not passed
    assert message.startswith("scores look unscaled: divide by sqrt(d_k) = 4 (3-D inputs: output")


def test_the_forbidden_call_is_named(lessons: Path, tmp_path: Path) -> None:
    results = judged(lessons, tmp_path, "cheat_einsum.py")
    assert results["no_forbidden_calls"] == (
        False,
        False,
        "the submission calls torch.einsum, which this lesson forbids: write the "
        "scores with q @ k.transpose(-2, -1): the lesson is the matrix product",
    )
    assert results["numbers_float64"][0]


def test_the_skeleton_and_a_missing_function_fail_helpfully(lessons: Path, tmp_path: Path) -> None:
    skeleton = judged(lessons, tmp_path, "exercise.py")
    assert (
        "NotImplementedError: attention_scores is not written yet"
        in (skeleton["numbers_float64"][2])
    )
    missing = judged(lessons, tmp_path, "missing.py")
    assert missing["interface"] == (
        False,
        False,
        "the file defines no function attention_scores: define attention_scores(q, k) "
        "returning q @ k^T / sqrt(d_k)",
    )
    assert all(skipped for name, (_, skipped, _) in missing.items() if name != "interface")
