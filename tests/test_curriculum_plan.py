"""A fresh learner's plan over the whole curriculum, as `plan --json` and `lessons --json`
show it: the twelve exercise lessons of the curriculum issues (parts 1 and 2) land after
what they build on, each concept shallow to deep, and nothing is planned twice."""

from __future__ import annotations

import json
from datetime import date

import pytest

NEW_LESSONS = {
    # part 1: the architecture path
    "attention-mechanism-2",
    "positional-encoding-3",
    "multi-head-attention-3",
    "transformer-2",
    "gpt-architecture-2",
    "sparse-attention-3",
    # part 2: training, model and safety concepts
    "rlhf-2",
    "efficient-fine-tuning-2",
    "scaling-laws-2",
    "state-space-models-2",
    "bert-architecture-2",
    "mechanistic-interpretability-2",
}


@pytest.fixture
def fresh(cli_run, monkeypatch: pytest.MonkeyPatch, db_path):  # noqa: ANN001, ANN201
    monkeypatch.setenv("TRACKER_NOW", "2026-12-02T09:00")
    lessons = cli_run("lessons", "--json")
    assert lessons.exit_code == 0, lessons.output
    plan = cli_run("plan", "--json")
    assert plan.exit_code == 0, plan.output
    return json.loads(lessons.stdout), json.loads(plan.stdout)


def _planned(plan: dict) -> list[dict]:
    return plan["week"] + plan["month"] + plan["quarter"]


def test_the_quarter_plan_holds_every_lesson_once(fresh) -> None:  # noqa: ANN001
    lessons, plan = fresh
    order = [item["lesson"] for item in _planned(plan)]
    assert sorted(order) == sorted(lesson["id"] for lesson in lessons)
    assert set(order) >= NEW_LESSONS
    assert plan["focus"]["lesson"] == order[0] == "attention-mechanism-1"
    days = [date.fromisoformat(item["date"]) for item in _planned(plan)]
    assert days == sorted(days)
    assert (days[-1] - date(2026, 12, 2)).days < 90


def test_each_lesson_comes_after_what_it_builds_on(fresh) -> None:  # noqa: ANN001
    lessons, plan = fresh
    requires = {lesson["id"]: lesson["requires"] for lesson in lessons}
    reached: dict[str, int] = {}
    for item in _planned(plan):
        for need in requires[item["lesson"]]:
            assert reached.get(need["concept"], 0) >= need["depth"], (item["lesson"], need)
        reached[item["concept"]] = max(reached.get(item["concept"], 0), item["depth"])


def test_a_concepts_lessons_are_planned_shallow_to_deep(fresh) -> None:  # noqa: ANN001
    _, plan = fresh
    depths: dict[str, list[int]] = {}
    for item in _planned(plan):
        depths.setdefault(item["concept"], []).append(item["depth"])
    assert all(d == sorted(d) for d in depths.values()), depths
    # The new depth-2 and depth-3 lessons follow their concept's introduction.
    for concept in ("bert-architecture", "rlhf", "scaling-laws", "sparse-attention"):
        assert depths[concept][0] == 1, concept


def test_the_main_path_comes_first_and_in_order(fresh) -> None:  # noqa: ANN001
    _, plan = fresh
    order = [item["lesson"] for item in _planned(plan)]
    main = ["attention-mechanism-1", "multi-head-attention-2", "flash-attention-3"]
    assert [lesson for lesson in order if lesson in main] == main
    # Only the introductions the path's lessons build on come between them.
    assert order[:5] == [
        "attention-mechanism-1",
        "multi-head-attention-1",
        "multi-head-attention-2",
        "flash-attention-1",
        "flash-attention-3",
    ]


def test_a_fresh_learner_sees_the_new_lessons_locked_with_what_they_need(fresh) -> None:  # noqa: ANN001
    lessons, _ = fresh
    new = {lesson["id"]: lesson for lesson in lessons if lesson["id"] in NEW_LESSONS}
    assert len(new) == len(NEW_LESSONS)
    assert {lesson["status"] for lesson in new.values()} == {"locked"}
    assert all(lesson["has_exercise"] for lesson in new.values())
    needs = {
        lesson_id: sorted(f"{r['concept']}@{r['depth']}" for r in lesson["requires"])
        for lesson_id, lesson in new.items()
    }
    assert needs["gpt-architecture-2"] == ["multi-head-attention@2", "transformer@2"]
    assert needs["sparse-attention-3"] == ["flash-attention@3"]
    assert needs["rlhf-2"] == ["gpt-architecture@1"]
