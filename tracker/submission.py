"""Submitting an exercise: validate a learner's file, then record what it earned.

Validation runs outside any database transaction (it takes seconds, and the
learner's code must never run while a write lock is held); then one write
transaction stores the Submission row and, only for a pass, the progress
(``tracker.progress.record_passed_lesson``). A review submission (``--review``)
also rates the lesson's code card in that same transaction.

The work is split so a cold ``tracker submit`` starts its sandboxed workers
before anything else: ``prepare_submission`` checks the input and starts them,
the caller opens the database meanwhile, and ``finish_submission`` waits for the
verdict and records it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tracker.config import Settings
from tracker.errors import CurriculumError, LessonNotFound, UsageError

if TYPE_CHECKING:
    from tracker.store import Store
    from tracker.validation.execution import Executor, Limits
    from tracker.validation.runner import PendingValidation, Verdict

MAX_SOURCE_BYTES = 256 * 1024

# Set by `tracker serve` while it runs a handed-off submit: its warm worker runs the jobs.
_executor_override: ContextVar[Executor | None] = ContextVar("executor_override", default=None)


@contextmanager
def executor_override(executor: Executor) -> Iterator[None]:
    """Submissions validated inside this block run on ``executor`` unless given another."""
    token = _executor_override.set(executor)
    try:
        yield
    finally:
        _executor_override.reset(token)


class NotPassedYet(UsageError):
    """A review submission for a lesson the learner has not passed."""


@dataclass
class PreparedSubmission:
    lesson: ExerciseLesson
    path: Path
    source: bytes
    for_review: bool
    pending: PendingValidation

    @property
    def code_sha256(self) -> str:
        return hashlib.sha256(self.source).hexdigest()


@dataclass
class SubmitOutcome:
    verdict: Verdict
    submission_id: int
    for_review: bool = False
    review: dict[str, Any] | None = None  # the code card's rating, for a review submission

    def as_dict(self) -> dict[str, Any]:
        """The verdict document; a review submission adds ``review``."""
        document = self.verdict.as_dict()
        if self.for_review:
            document["review"] = self.review
        return document


@dataclass(frozen=True)
class ExerciseLesson:
    id: str
    folder: Path


def exercise_lesson(lesson_id: str) -> ExerciseLesson:
    """The lesson ``lesson_id``, which must have an exercise.

    Reads that one lesson.toml, not the whole curriculum: this runs before the
    workers start, so every millisecond here delays a cold submit (the curriculum
    loader would bring in the ORM too). Opening the store validates and syncs the
    whole curriculum anyway.
    """
    import re
    import tomllib

    from tracker.resources import lessons_dir

    folder = lessons_dir() / lesson_id
    if (
        not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", lesson_id)
        or not (folder / "lesson.toml").is_file()
    ):
        raise LessonNotFound(f"no lesson {lesson_id!r}; see `tracker lessons`")
    try:
        data = tomllib.loads((folder / "lesson.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CurriculumError(f"{folder / 'lesson.toml'}: cannot read: {exc}") from exc
    if "exercise" not in data:
        raise UsageError(f"lesson {lesson_id!r} has no exercise to submit")
    missing = [name for name in ("probe.py", "checks.py") if not (folder / name).is_file()]
    if missing:
        raise CurriculumError(f"{folder}: missing {', '.join(missing)}")
    return ExerciseLesson(lesson_id, folder)


def read_source(path: Path) -> bytes:
    """The learner's file: a readable, UTF-8, reasonably small regular file."""
    try:
        if path.is_dir():
            raise UsageError(f"{path} is a directory; submit one Python file")
        if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
            raise UsageError(f"{path} is not a regular file; submit one Python file")
        with path.open("rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise UsageError(
            f"{path} is larger than {MAX_SOURCE_BYTES // 1024} KiB; a submission is one Python file"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    return data


def limits_for(settings: Settings, timeout: float | None = None) -> Limits:
    from tracker.validation.execution import Limits

    seconds = float(timeout if timeout is not None else settings.validation_timeout)
    if not 0 < seconds <= 3600:
        raise UsageError("--timeout must be between 1 and 3600 seconds")
    return Limits(timeout_s=seconds)


def prepare_submission(
    lesson_id: str,
    path: Path,
    *,
    settings: Settings,
    device: str = "auto",
    timeout: float | None = None,
    for_review: bool = False,
    executor: Executor | None = None,
    seed: int | None = None,
) -> PreparedSubmission:
    """Check the input and start validating it (the workers start now)."""
    from tracker.validation.runner import start_validation

    lesson = exercise_lesson(lesson_id)
    source = read_source(path)
    limits = limits_for(settings, timeout)
    if executor is None:
        executor = _executor_override.get()
        if executor is not None and settings.require_isolation:
            _require_sandbox(executor)
    if executor is None:
        from tracker.validation.device import resolve_device
        from tracker.validation.sandbox import executor_for

        device = resolve_device(device)
        executor = executor_for(device, require_isolation=settings.require_isolation)
    pending = start_validation(
        lesson.folder, source, device=device, limits=limits, executor=executor, seed=seed
    )
    return PreparedSubmission(lesson, path, source, for_review, pending)


def _require_sandbox(executor: Executor) -> None:
    if not executor.isolation.startswith("bubblewrap"):
        from tracker.validation.sandbox import SandboxUnavailable

        raise SandboxUnavailable(
            f"require_isolation is set but the running `tracker serve` validates with "
            f"{executor.isolation}: install bubblewrap and restart it"
        )


def check_review_allowed(store: Store, lesson_id: str) -> None:
    """A review submission needs the lesson (an exercise) passed already."""
    from tracker.db.models import Progress

    exercise_lesson(lesson_id)
    with store.read() as session:
        passed = session.scalar(
            select(Progress.id).where(
                Progress.learner_id == store.learner_id, Progress.lesson_id == lesson_id
            )
        )
    if passed is None:
        raise NotPassedYet(
            f"--review is for lessons already passed; submit {lesson_id} without --review first"
        )


def finish_submission(store: Store, prepared: PreparedSubmission) -> SubmitOutcome:
    """Wait for the verdict (no transaction open), then record it in one write."""
    verdict = prepared.pending.result()
    verdict.recorded = verdict.passed
    return record_submission(store, prepared, verdict)


def record_submission(
    store: Store, prepared: PreparedSubmission, verdict: Verdict
) -> SubmitOutcome:
    from tracker.db.models import Lesson, Submission
    from tracker.progress import record_passed_lesson

    now = store.now()
    today = store.clock.local_day(now)
    lesson_id = prepared.lesson.id
    review = None
    with store.write() as session:
        failed_earlier_today = False
        if prepared.for_review:
            failed_earlier_today = (
                session.scalar(
                    select(Submission.id)
                    .where(
                        Submission.learner_id == store.learner_id,
                        Submission.lesson_id == lesson_id,
                        Submission.for_review.is_(True),
                        Submission.passed.is_(False),
                        Submission.local_date == today,
                    )
                    .limit(1)
                )
                is not None
            )
        row = Submission(
            learner_id=store.learner_id,
            lesson_id=lesson_id,
            submitted_at=now,
            local_date=today,
            code_sha256=prepared.code_sha256,
            passed=verdict.passed,
            for_review=prepared.for_review,
            device=verdict.device,
            isolation=verdict.isolation,
            duration_s=verdict.duration_s,
            verdict_json=json.dumps(verdict.as_dict(), ensure_ascii=False),
            error=verdict.error,
        )
        session.add(row)
        session.flush()
        if verdict.passed and not prepared.for_review:  # a review is logged on its card
            lesson = session.get(Lesson, lesson_id)
            if lesson is None:  # pragma: no cover - the store syncs lessons on open
                raise LessonNotFound(f"lesson {lesson_id!r} is not in the database")
            record_passed_lesson(
                session,
                learner_id=store.learner_id,
                lesson=lesson,
                kind="submission",
                completed_at=now,
                local_date=today,
                submission_id=row.id,
            )
        if prepared.for_review:
            from tracker.reviews import rate_code_submission

            rated = rate_code_submission(
                session,
                learner_id=store.learner_id,
                lesson_id=lesson_id,
                passed=verdict.passed,
                failed_earlier_today=failed_earlier_today,
                now=now,
                settings=store.settings,
                submission_id=row.id,
            )
            review = rated.as_dict() if rated is not None else None
        submission_id = row.id
    return SubmitOutcome(
        verdict=verdict,
        submission_id=submission_id,
        for_review=prepared.for_review,
        review=review,
    )


def submit(
    store: Store,
    lesson_id: str,
    path: Path,
    *,
    device: str = "auto",
    timeout: float | None = None,
    for_review: bool = False,
    executor: Executor | None = None,
    seed: int | None = None,
) -> SubmitOutcome:
    """Validate ``path`` against ``lesson_id`` and record the outcome (one call, for tests)."""
    if for_review:
        check_review_allowed(store, lesson_id)
    prepared = prepare_submission(
        lesson_id,
        path,
        settings=store.settings,
        device=device,
        timeout=timeout,
        for_review=for_review,
        executor=executor,
        seed=seed,
    )
    return finish_submission(store, prepared)
