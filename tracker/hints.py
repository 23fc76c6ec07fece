"""The commands the tracker suggests to a learner, written in one place.

Screens, JSON documents, reminders and error messages all point at the next
command to run; keeping the wording here means a renamed option changes once.
"""

from __future__ import annotations


def review() -> str:
    return "tracker review"


def checkin() -> str:
    return "tracker checkin"


def remind_once() -> str:
    return "tracker remind --once"


def learn(lesson_id: str) -> str:
    return f"tracker learn {lesson_id}"


def exercise(lesson_id: str, file: str | None = None) -> str:
    return f"tracker lesson exercise {lesson_id} -o {file or lesson_id + '.py'}"


def submit(lesson_id: str, file: str = "FILE", *, review: bool = False) -> str:
    return f"tracker submit {lesson_id} {file}" + (" --review" if review else "")


def study_steps(lesson_id: str, has_exercise: bool) -> str:
    """What studying a lesson takes: read it, and for an exercise, submit the code."""
    if has_exercise:
        return f"{learn(lesson_id)}, then {submit(lesson_id)}"
    return learn(lesson_id)


def exercise_steps(lesson_id: str) -> str:
    """How an exercise lesson is passed: the skeleton, then a submission."""
    file = f"{lesson_id}.py"
    return f"`{exercise(lesson_id, file)}`, then `{submit(lesson_id, file)}`"


def code_review(lesson_id: str) -> str:
    return f"`{submit(lesson_id, review=True)}`"


def code_card_steps(lesson_id: str) -> str:
    """How a due code card is reviewed: a blank skeleton, written again, submitted for review."""
    file = f"{lesson_id}.py"
    return f"{exercise(lesson_id, file)} --force, then {submit(lesson_id, file, review=True)}"


def closest(word: str, candidates: list[str]) -> str | None:
    """The candidate a mistyped ``word`` most likely meant (a lesson id for a concept id too)."""
    import difflib

    prefixed = sorted(c for c in candidates if c.startswith(word + "-"))
    if prefixed:
        return prefixed[0]
    found = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return found[0] if found else None
