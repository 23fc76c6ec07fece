"""The curriculum as data: the shipped lessons, invalid lesson data, and syncing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tracker.curriculum.loader import load_curriculum
from tracker.errors import CurriculumError
from tracker.resources import lessons_dir

EXPECTED_CONCEPTS = {
    "architecture": {
        "attention-mechanism",
        "transformer",
        "positional-encoding",
        "multi-head-attention",
        "flash-attention",
        "grouped-query-attention",
        "sparse-attention",
    },
    "model": {"gpt-architecture", "bert-architecture", "state-space-models"},
    "training": {"scaling-laws", "rlhf", "efficient-fine-tuning"},
    "safety": {"mechanistic-interpretability", "alignment", "red-teaming"},
}
EXPECTED_FIRST_REQUIREMENTS = {
    "attention-mechanism": set(),
    "transformer": set(),
    "positional-encoding": {"transformer@1"},
    "multi-head-attention": {"attention-mechanism@1"},
    "flash-attention": {"multi-head-attention@2"},
    "grouped-query-attention": {"multi-head-attention@2"},
    "sparse-attention": {"multi-head-attention@2"},
    "gpt-architecture": {"transformer@1", "multi-head-attention@2"},
    "bert-architecture": {"transformer@1", "multi-head-attention@2"},
    "state-space-models": {"transformer@1"},
    "scaling-laws": {"transformer@1"},
    "rlhf": {"transformer@1"},
    "efficient-fine-tuning": {"transformer@1"},
    "mechanistic-interpretability": {"multi-head-attention@2"},
    "alignment": {"rlhf@1"},
    "red-teaming": {"alignment@1"},
}


# The red-teaming concept's block in lessons/curriculum.toml, removed by tests that retire it.
RED_TEAMING_BLOCK = (
    '[[concepts]]\nid = "red-teaming"\ntitle = "Red teaming"\ncategory = "safety"\n'
    'target_depth = 1\naliases = ["Red-Teaming", "Red Team", "레드 티밍", "레드팀"]\n'
)


def test_shipped_curriculum_has_every_concept_with_a_depth_one_lesson() -> None:
    curriculum = load_curriculum()
    by_category: dict[str, set[str]] = {}
    for concept in curriculum.concepts.values():
        by_category.setdefault(concept.category, set()).add(concept.id)
    assert by_category == EXPECTED_CONCEPTS
    for concept_id, requirements in EXPECTED_FIRST_REQUIREMENTS.items():
        first = curriculum.lessons[f"{concept_id}-1"]
        assert {str(r) for r in first.requires} == requirements, concept_id
        assert 3 <= len(first.questions) <= 5, concept_id
        assert first.content.startswith("# ") and len(first.content.split()) > 150, concept_id
    assert curriculum.main_path == (
        "attention-mechanism-1",
        "multi-head-attention-2",
        "flash-attention-3",
    )
    assert {str(r) for r in curriculum.lessons["flash-attention-3"].requires} == {
        "multi-head-attention@2"
    }


TARGET_DEPTHS = {  # issue 13: depths a learner can reach, so every concept can be mastered
    "attention-mechanism": 2,
    "transformer": 2,
    "positional-encoding": 3,
    "multi-head-attention": 3,
    "flash-attention": 3,
    "grouped-query-attention": 3,
    "sparse-attention": 3,
    "gpt-architecture": 2,
    "bert-architecture": 2,
    "state-space-models": 2,
    "scaling-laws": 2,
    "rlhf": 2,
    "efficient-fine-tuning": 2,
    "mechanistic-interpretability": 2,
    "alignment": 1,
    "red-teaming": 1,
}


def test_concepts_show_their_target_depths(cli_run) -> None:
    result = cli_run("concepts", "--json")
    assert result.exit_code == 0, result.output
    assert {row["id"]: row["target_depth"] for row in json.loads(result.stdout)} == TARGET_DEPTHS


@pytest.mark.parametrize("concept", TARGET_DEPTHS)
def test_synced_concept_has_lessons_up_to_its_target_depth(
    concept: str, cli_run, db_path: Path
) -> None:
    """After a sync, the database holds a lesson at the concept's target depth (depths may
    jump, as flash-attention's 1 and 3 do): passing it masters the concept."""
    assert cli_run("init").exit_code == 0
    with sqlite3.connect(db_path) as conn:
        target = conn.execute(
            "SELECT target_depth FROM concepts WHERE id = ?", (concept,)
        ).fetchone()[0]
        depths = sorted(
            depth
            for (depth,) in conn.execute(
                "SELECT depth FROM lessons WHERE concept_id = ? AND NOT retired", (concept,)
            )
        )
    assert target == TARGET_DEPTHS[concept]
    assert depths and depths[-1] >= target, (
        f"{concept}: lessons at depths {depths}, none at its target depth {target}: "
        f"missing {concept}-{target}"
    )


def _copy_lessons(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    shutil.copytree(lessons_dir(), root)
    return root


def _problems(root: Path) -> list[str]:
    with pytest.raises(CurriculumError) as info:
        load_curriculum(root)
    return info.value.problems  # type: ignore[attr-defined]


def test_unknown_prerequisite_names_the_file(tmp_path: Path) -> None:
    root = _copy_lessons(tmp_path)
    toml = root / "rlhf-1" / "lesson.toml"
    toml.write_text(toml.read_text().replace('"transformer@1"', '"transformers@1"'))
    assert _problems(root) == [f"{toml}: requires unknown concept 'transformers'"]


def test_a_cycle_is_reported_for_every_lesson_it_locks(tmp_path: Path) -> None:
    root = _copy_lessons(tmp_path)
    toml = root / "transformer-1" / "lesson.toml"
    toml.write_text(toml.read_text().replace("requires = []", 'requires = ["scaling-laws@1"]'))
    # transformer-2 reaches depth 2 by another road, which holds transformer@1 too: close it.
    deeper = root / "transformer-2" / "lesson.toml"
    deeper.write_text(
        deeper.read_text().replace(
            'requires = ["multi-head-attention@2"]',
            'requires = ["multi-head-attention@2", "scaling-laws@1"]',
        )
    )
    problems = _problems(root)
    assert any(p.startswith(f"{toml}: can never be unlocked") for p in problems)
    assert any(str(root / "scaling-laws-1" / "lesson.toml") in p for p in problems)


def test_missing_lesson_md_and_bad_fields_are_all_listed(tmp_path: Path) -> None:
    root = _copy_lessons(tmp_path)
    (root / "alignment-1" / "lesson.md").unlink()
    toml = root / "red-teaming-1" / "lesson.toml"
    toml.write_text(toml.read_text().replace("depth = 1", 'depth = "one"\ncolour = "red"'))
    problems = _problems(root)
    assert f"{root / 'alignment-1' / 'lesson.md'}: missing file" in problems
    assert f"{toml}: unknown key 'colour'" in problems
    assert f"{toml}: depth must be a whole number >= 1" in problems
    with pytest.raises(CurriculumError, match=r"\(and \d+ more problems\)"):
        load_curriculum(root)


def test_folder_must_match_concept_and_depth(tmp_path: Path) -> None:
    root = _copy_lessons(tmp_path)
    (root / "rlhf-1").rename(root / "rlhf-one")
    problems = _problems(root)
    assert (
        f"{root / 'rlhf-one' / 'lesson.toml'}: folder must be named 'rlhf-1' (concept-depth)"
        in problems
    )


def test_invalid_curriculum_is_a_one_line_cli_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_run
) -> None:
    root = _copy_lessons(tmp_path)
    (root / "alignment-1" / "lesson.md").unlink()
    monkeypatch.setattr("tracker.resources.lessons_dir", lambda: root)
    result = cli_run("concepts")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {root / 'alignment-1' / 'lesson.md'}: missing file"


def test_sync_updates_a_changed_lesson_without_touching_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    from sqlalchemy import select

    from tracker.db.models import Lesson, LessonPrerequisite, Progress
    from tracker.progress import record_passed_lesson
    from tracker.store import open_store

    root = _copy_lessons(tmp_path)
    monkeypatch.setattr("tracker.resources.lessons_dir", lambda: root)
    store = open_store()
    now = store.now()
    with store.write() as session:
        lesson = session.get(Lesson, "transformer-1")
        record_passed_lesson(
            session,
            learner_id=store.learner_id,
            lesson=lesson,
            kind="study",
            completed_at=now,
            local_date=store.clock.local_day(now),
        )
    store.close()
    toml = root / "rlhf-1" / "lesson.toml"
    text = toml.read_text()
    toml.write_text(
        text.replace(
            'requires = ["transformer@1"]', 'requires = ["transformer@1", "scaling-laws@1"]'
        )
    )
    (root / "transformer-1" / "lesson.toml").write_text(
        (root / "transformer-1" / "lesson.toml")
        .read_text()
        .replace('title = "', 'title = "Renamed: ', 1)
    )
    store = open_store()
    with store.read() as session:
        assert session.get(Lesson, "transformer-1").title.startswith("Renamed: ")
        prereqs = session.scalars(
            select(LessonPrerequisite).where(LessonPrerequisite.lesson_id == "rlhf-1")
        ).all()
        assert {(p.concept_id, p.depth) for p in prereqs} == {
            ("transformer", 1),
            ("scaling-laws", 1),
        }
        assert [p.lesson_id for p in session.scalars(select(Progress))] == ["transformer-1"]
    store.close()
    # A lesson removed from disk is retired, not deleted: history still points at it.
    shutil.rmtree(root / "red-teaming-1")
    concepts_toml = root / "curriculum.toml"
    concepts_toml.write_text(concepts_toml.read_text().replace(RED_TEAMING_BLOCK, ""))
    store = open_store()
    with store.read() as session:
        assert session.get(Lesson, "red-teaming-1").retired is True
    store.close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM study_sessions").fetchone() == (1,)


def test_an_unchanged_curriculum_is_not_loaded_again(
    monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    from tracker.store import open_store

    open_store().close()

    def must_not_load(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("curriculum reloaded although nothing changed")

    monkeypatch.setattr("tracker.curriculum.loader.load_curriculum", must_not_load)
    open_store().close()


def test_cards_follow_their_questions_when_a_lesson_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    import tomllib

    import tomli_w

    from tracker.course import load_due
    from tracker.db.models import Lesson
    from tracker.progress import record_passed_lesson
    from tracker.store import open_store

    root = _copy_lessons(tmp_path)
    monkeypatch.setattr("tracker.resources.lessons_dir", lambda: root)
    store = open_store()
    now = store.now()
    with store.write() as session:
        for lesson_id in ("transformer-1", "red-teaming-1"):
            record_passed_lesson(
                session,
                learner_id=store.learner_id,
                lesson=session.get(Lesson, lesson_id),
                kind="study",
                completed_at=now,
                local_date=store.clock.local_day(now),
            )
    store.close()

    def cards() -> dict[str, tuple[int, int]]:
        """prompt (or lesson:index for orphans) -> (card id, suspended)."""
        with sqlite3.connect(db_path) as conn:
            rows = conn.execute(
                "SELECT c.id, c.question_index, c.suspended, l.questions_json, l.id "
                "FROM review_cards c JOIN lessons l ON l.id = c.lesson_id ORDER BY c.id"
            ).fetchall()
        found = {}
        for card, index, suspended, questions, lesson in rows:
            prompts = [q["prompt"] for q in json.loads(questions)]
            key = prompts[index] if 0 <= index < len(prompts) else f"{lesson}:orphan{card}"
            found[key] = (card, suspended)
        return found

    before = cards()
    path = root / "transformer-1" / "lesson.toml"
    data = tomllib.loads(path.read_text())
    first, second, third = data["questions"][:3]
    data["questions"] = [third, second, {"prompt": "A new question?", "answer": "Yes."}]
    path.write_text(tomli_w.dumps(data))  # first removed, the others swapped, one added
    shutil.rmtree(root / "red-teaming-1")
    curriculum = root / "curriculum.toml"
    curriculum.write_text(curriculum.read_text().replace(RED_TEAMING_BLOCK, ""))
    store = open_store()
    after = cards()
    assert after[third["prompt"]] == (before[third["prompt"]][0], 0)  # same card, same history
    assert after[second["prompt"]] == (before[second["prompt"]][0], 0)
    assert after["A new question?"][1] == 0 and after["A new question?"][0] not in {
        card for card, _ in before.values()
    }
    orphan = [key for key in after if key.startswith("transformer-1:orphan")]
    assert orphan == [f"transformer-1:orphan{before[first['prompt']][0]}"]
    assert after[orphan[0]][1] == 1  # suspended, not shown with a stale prompt
    with sqlite3.connect(db_path) as conn:
        suspended = conn.execute(
            "SELECT count(*), sum(suspended) FROM review_cards WHERE lesson_id = 'red-teaming-1'"
        ).fetchone()
    assert suspended[0] > 0 and suspended[0] == suspended[1]  # kept, but retired with the lesson
    with store.read() as session:
        due = load_due(session, learner_id=store.learner_id, until=store.now())
    assert (due.questions, due.code_cards) == (
        3,
        (),
    )  # transformer-1's three live questions, nothing stale
    store.close()


def test_aliases_are_validated_and_each_name_belongs_to_one_concept(tmp_path: Path) -> None:
    root = _copy_lessons(tmp_path)
    toml = root / "curriculum.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('aliases = ["GQA",', 'aliases = ["멀티헤드 어텐션", "GQA",', 1)
    text = text.replace(
        'aliases = ["Red-Teaming", "Red Team", "레드 티밍", "레드팀"]', 'aliases = "레드팀"'
    )
    toml.write_text(text, encoding="utf-8")
    assert _problems(root) == [
        f"{toml} [[concepts]] #16: aliases must be a list of non-empty strings",
        f"{toml}: the name '멀티헤드 어텐션' belongs to both 'multi-head-attention' "
        "and 'grouped-query-attention'",
    ]


def test_every_concept_has_english_and_korean_aliases() -> None:
    curriculum = load_curriculum()
    for concept in curriculum.concepts.values():
        assert any(ch.isascii() for alias in concept.aliases for ch in alias), concept.id
        assert any("\uac00" <= ch <= "\ud7a3" for alias in concept.aliases for ch in alias), (
            concept.id
        )
