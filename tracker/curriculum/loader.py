"""Read lessons/ into a validated Curriculum, collecting every problem before raising.

A bad lesson.toml should list all its bad fields at once, each naming the file,
the way a compiler reports every error rather than the first.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from tracker.curriculum.fingerprint import fingerprint  # noqa: F401 - re-exported
from tracker.curriculum.model import (
    ConceptSpec,
    Curriculum,
    Exercise,
    LessonSpec,
    Question,
    Requirement,
    name_key,
)
from tracker.errors import CurriculumError
from tracker.validation import forbidden

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LESSON_KEYS = {"concept", "depth", "title", "summary", "requires", "questions", "exercise"}
EXERCISE_KEYS = {"entry", "kind", "forbidden_calls", "forbidden_advice"}
EXERCISE_KINDS = {"function", "module"}
EXERCISE_FILES = ("reference.py", "exercise.py", "probe.py", "checks.py")
CONCEPT_KEYS = {"id", "title", "category", "target_depth", "aliases"}
CURRICULUM_KEYS = {"main_path", "categories", "concepts"}
DEFAULT_TARGET_DEPTH = 3


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: Path | str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            more = f" (and {len(self.items) - 1} more problems)" if len(self.items) > 1 else ""
            error = CurriculumError(self.items[0] + more)
            error.problems = list(self.items)  # type: ignore[attr-defined]
            raise error


def _read_toml(path: Path, problems: _Problems) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.add(path, "missing file")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(path, f"cannot read: {exc}")
    except tomllib.TOMLDecodeError as exc:
        problems.add(path, f"invalid TOML: {exc}")
    return None


def _parse_requirement(text: Any) -> Requirement | None:
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"([a-z0-9-]+)@(\d+)", text.strip())
    if not match or int(match.group(2)) < 1:
        return None
    return Requirement(match.group(1), int(match.group(2)))


def _load_concepts(
    path: Path, data: dict[str, Any], problems: _Problems
) -> tuple[dict[str, str], dict[str, ConceptSpec]]:
    for key in sorted(set(data) - CURRICULUM_KEYS):
        problems.add(path, f"unknown key {key!r}")
    categories = data.get("categories", {})
    if not isinstance(categories, dict) or not categories:
        problems.add(path, "[categories] must map category ids to titles")
        categories = {}
    concepts: dict[str, ConceptSpec] = {}
    raw_concepts = data.get("concepts", [])
    if not isinstance(raw_concepts, list):
        problems.add(path, "concepts must be a list of [[concepts]] tables")
        raw_concepts = []
    for position, raw in enumerate(raw_concepts):
        where = f"{path} [[concepts]] #{position + 1}"
        if not isinstance(raw, dict):
            problems.add(where, "must be a table")
            continue
        for key in sorted(set(raw) - CONCEPT_KEYS):
            problems.add(where, f"unknown key {key!r}")
        concept_id = raw.get("id")
        if not isinstance(concept_id, str) or not SLUG_RE.fullmatch(concept_id):
            problems.add(where, "id must be a kebab-case slug")
            continue
        if concept_id in concepts:
            problems.add(where, f"duplicate concept {concept_id!r}")
        category = raw.get("category")
        if not isinstance(category, str) or category not in categories:
            problems.add(where, f"unknown category {category!r}")
        target = raw.get("target_depth", DEFAULT_TARGET_DEPTH)
        if not isinstance(target, int) or isinstance(target, bool) or target < 1:
            problems.add(where, "target_depth must be a whole number >= 1")
            target = DEFAULT_TARGET_DEPTH
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.add(where, "title must be a non-empty string")
            title = concept_id
        aliases = _aliases(raw.get("aliases", []), where, problems)
        concepts[concept_id] = ConceptSpec(
            concept_id, title, str(category), target, position, aliases
        )
    if not concepts:
        problems.add(path, "no [[concepts]] defined")
    _check_names_unique(path, concepts, problems)
    return {str(k): str(v) for k, v in categories.items()}, concepts


def _aliases(raw: Any, where: str, problems: _Problems) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(a, str) and a.strip() for a in raw):
        problems.add(where, "aliases must be a list of non-empty strings")
        return ()
    return tuple(alias.strip() for alias in raw)


def _check_names_unique(path: Path, concepts: dict[str, ConceptSpec], problems: _Problems) -> None:
    """An id, title or alias must name one concept only, or an imported post is ambiguous."""
    owner: dict[str, str] = {}
    for concept in concepts.values():
        for name in concept.names():
            other = owner.setdefault(name_key(name), concept.id)
            if other != concept.id:
                problems.add(
                    path, f"the name {name!r} belongs to both {other!r} and {concept.id!r}"
                )


def _load_lesson(
    folder: Path, concepts: dict[str, ConceptSpec], problems: _Problems
) -> LessonSpec | None:
    toml_path = folder / "lesson.toml"
    data = _read_toml(toml_path, problems)
    md_path = folder / "lesson.md"
    content = ""
    try:
        content = md_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.add(md_path, "missing file")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(md_path, f"cannot read: {exc}")
    if data is None:
        return None
    before = len(problems.items)
    for key in sorted(set(data) - LESSON_KEYS):
        hint = " (it belongs in [exercise])" if f"{key}" in EXERCISE_KEYS else ""
        problems.add(toml_path, f"unknown key {key!r}{hint}")
    concept = data.get("concept")
    if not isinstance(concept, str) or concept not in concepts:  # a table is no id
        problems.add(toml_path, f"unknown concept {concept!r}")
    depth = data.get("depth")
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        problems.add(toml_path, "depth must be a whole number >= 1")
        depth = 1
    expected_id = f"{concept}-{depth}"
    if folder.name != expected_id:
        problems.add(toml_path, f"folder must be named {expected_id!r} (concept-depth)")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.add(toml_path, "title must be a non-empty string")
    summary = data.get("summary", "")
    if not isinstance(summary, str):
        problems.add(toml_path, "summary must be a string")
        summary = ""
    requires: list[Requirement] = []
    raw_requires = data.get("requires", [])
    if not isinstance(raw_requires, list):
        problems.add(toml_path, 'requires must be a list of "concept@depth" strings')
        raw_requires = []
    for item in raw_requires:
        requirement = _parse_requirement(item)
        if requirement is None:
            problems.add(toml_path, f'requires: {item!r} is not "concept@depth"')
        elif requirement.concept not in concepts:
            problems.add(toml_path, f"requires unknown concept {requirement.concept!r}")
        elif requirement.concept == concept:
            problems.add(toml_path, "a lesson cannot require its own concept")
        else:
            requires.append(requirement)
    questions: list[Question] = []
    raw_questions = data.get("questions", [])
    if not isinstance(raw_questions, list):
        problems.add(toml_path, "questions must be a list of [[questions]] tables")
        raw_questions = []
    for number, raw in enumerate(raw_questions, start=1):
        if (
            not isinstance(raw, dict)
            or set(raw) != {"prompt", "answer"}
            or not all(isinstance(raw[k], str) and raw[k].strip() for k in ("prompt", "answer"))
        ):
            problems.add(
                toml_path, f"question {number} needs exactly a non-empty prompt and answer"
            )
            continue
        questions.append(Question(raw["prompt"].strip(), raw["answer"].strip()))
    if not questions:
        problems.add(toml_path, "at least one [[questions]] is required")
    exercise = None
    if "exercise" in data:
        raw = data["exercise"]
        if not isinstance(raw, dict):
            problems.add(toml_path, "[exercise] must be a table")
        else:
            for key in sorted(set(raw) - EXERCISE_KEYS):
                problems.add(toml_path, f"unknown key 'exercise.{key}'")
            entry, kind = raw.get("entry"), raw.get("kind")
            if not isinstance(entry, str) or not entry.isidentifier():
                problems.add(toml_path, "exercise.entry must be a Python identifier")
            if not isinstance(kind, str) or kind not in EXERCISE_KINDS:
                problems.add(toml_path, f"exercise.kind must be one of {sorted(EXERCISE_KINDS)}")
            for name in EXERCISE_FILES:
                if not (folder / name).is_file():
                    problems.add(folder / name, "missing file (lessons with an exercise need it)")
            for problem in forbidden.problems(raw):
                problems.add(toml_path, problem)
            declared = forbidden.from_exercise(raw)
            exercise = Exercise(str(entry), str(kind), declared.calls, declared.advice)
    if len(problems.items) > before:
        return None
    return LessonSpec(
        id=expected_id,
        concept=str(concept),
        depth=depth,
        title=str(title).strip(),
        summary=summary.strip(),
        requires=tuple(requires),
        questions=tuple(questions),
        exercise=exercise,
        folder=folder,
        content=content,
    )


def _unreachable(lessons: dict[str, LessonSpec]) -> list[LessonSpec]:
    """Lessons no learner could ever unlock: a prerequisite cycle, or a depth no lesson teaches."""
    depth_reached: dict[str, int] = {}
    passed: set[str] = set()
    changed = True
    while changed:
        changed = False
        for lesson in lessons.values():
            if lesson.id in passed:
                continue
            if all(depth_reached.get(r.concept, 0) >= r.depth for r in lesson.requires):
                passed.add(lesson.id)
                depth_reached[lesson.concept] = max(
                    depth_reached.get(lesson.concept, 0), lesson.depth
                )
                changed = True
    return [lesson for lesson in lessons.values() if lesson.id not in passed]


def load_curriculum(root: Path | None = None) -> Curriculum:
    if root is None:
        from tracker.resources import lessons_dir

        root = lessons_dir()
    problems = _Problems()
    if not root.is_dir():
        raise CurriculumError(f"{root}: lessons directory not found")
    curriculum_path = root / "curriculum.toml"
    data = _read_toml(curriculum_path, problems) or {}
    categories, concepts = _load_concepts(curriculum_path, data, problems)
    lessons: list[LessonSpec] = []
    for folder in sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
    ):
        lesson = _load_lesson(folder, concepts, problems)
        if lesson is not None:
            lessons.append(lesson)
    problems.raise_if_any()
    lessons.sort(key=lambda lesson: (concepts[lesson.concept].position, lesson.depth))
    by_id = {lesson.id: lesson for lesson in lessons}
    for concept in concepts.values():
        if not any(lesson.concept == concept.id for lesson in lessons):
            problems.add(curriculum_path, f"concept {concept.id!r} has no lesson folder")
    for lesson in _unreachable(by_id):
        needs = ", ".join(str(r) for r in lesson.requires)
        problems.add(
            lesson.folder / "lesson.toml",
            f"can never be unlocked: its prerequisites ({needs}) form a cycle "
            "or need a depth no lesson teaches",
        )
    main_path = data.get("main_path", [])
    if not isinstance(main_path, list):
        problems.add(curriculum_path, "main_path must be a list of lesson ids")
        main_path = []
    for lesson_id in main_path:
        if not isinstance(lesson_id, str) or lesson_id not in by_id:
            problems.add(curriculum_path, f"main_path names unknown lesson {lesson_id!r}")
    problems.raise_if_any()
    return Curriculum(
        categories=categories,
        concepts=concepts,
        lessons=by_id,
        main_path=tuple(main_path),
        fingerprint=fingerprint(root),
    )
