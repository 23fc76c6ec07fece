"""Submitting an exercise: validate a learner's file, then record what it earned.

Validation runs outside any database transaction (it takes seconds, and the
learner's code must never run while a write lock is held); then one write
transaction stores the Submission row and, only for a pass, the progress
(``tracker.progress.record_passed_lesson``). A review submission (``--review``)
also rates the lesson's code card in that same transaction.

Every request carries an id made by whoever started it (the CLI, before it
hands the work to ``tracker serve``). Recording is idempotent on that id: a
request recorded once is never recorded again, whichever path (warm or cold)
finishes it; a retry gets the recorded outcome back.

A cold ``tracker submit`` starts its sandboxed workers before it opens the
database (they spend a second importing torch meanwhile): ``begin_validation``
checks the input and starts them, ``submit`` finishes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tracker.clock import Clock
from tracker.config import Settings
from tracker.curriculum.names import unknown_lesson
from tracker.errors import CurriculumError, LessonNotFound, UsageError
from tracker.store import Store
from tracker.validation.protocol import new_request_id

if TYPE_CHECKING:
    from tracker.validation.execution import Executor, Limits
    from tracker.validation.runner import PendingValidation, Verdict

MAX_SOURCE_BYTES = 256 * 1024
CANCELLED = "cancelled before the checks finished (Ctrl-C); nothing recorded but this attempt"


class NotPassedYet(UsageError):
    """A review submission for a lesson the learner has not passed."""


@dataclass(frozen=True)
class SubmitRequest:
    """What the learner asked for: a lesson, a file, and how to check it."""

    lesson_id: str
    path: Path
    device: str = "auto"
    timeout: float | None = None
    for_review: bool = False
    request_id: str = field(default_factory=new_request_id)
    seed: int | None = None  # tests replay a verdict; None draws a fresh one


@dataclass
class SubmitOutcome:
    verdict: Verdict
    submission_id: int
    for_review: bool = False
    review: dict[str, Any] | None = None  # the code card's rating, for a review submission
    cancelled: bool = False
    replayed: bool = False  # this request had been recorded already: nothing new was written
    practice: bool = False  # a pass of a lesson passed before: practice, not a new session

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict.passed and not self.cancelled else 1

    @property
    def summary(self) -> str:
        """The outcome in a few words, for a log line."""
        if self.cancelled:
            return "cancelled"
        words = "passed" if self.verdict.passed else "failed"
        if self.verdict.recorded:
            words += ", recorded"
        return words + (" (recorded before)" if self.replayed else "")

    def as_dict(self) -> dict[str, Any]:
        """The verdict document; a review submission adds ``review``."""
        document = self.verdict.as_dict()
        if self.for_review:
            document["review"] = self.review
        if self.cancelled:
            document["cancelled"] = True
        if self.verdict.passed and not self.for_review:
            document["practice"] = self.practice
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
    try:
        found = (
            re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", lesson_id) is not None
            and (folder / "lesson.toml").is_file()
        )
    except OSError:  # an id longer than a file name can be
        found = False
    if not found:
        raise unknown_lesson(lesson_id)
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


@dataclass
class Started:
    """A request whose workers are running: the validation ``submit`` waits for."""

    request: SubmitRequest
    lesson: ExerciseLesson
    source: bytes
    pending: PendingValidation

    @property
    def code_sha256(self) -> str:
        return hashlib.sha256(self.source).hexdigest()


def begin_validation(
    request: SubmitRequest, *, settings: Settings, executor: Executor | None = None
) -> Started:
    """Check the input and start validating it (the workers start now; no database)."""
    from tracker.validation.runner import start_validation

    lesson = exercise_lesson(request.lesson_id)
    source = read_source(request.path)
    limits = limits_for(settings, request.timeout)
    device = request.device
    if executor is None:
        from tracker.validation.device import resolve_device
        from tracker.validation.sandbox import executor_for

        device = resolve_device(device)
        executor = executor_for(device, require_isolation=settings.require_isolation)
    elif settings.require_isolation and not executor.isolation.startswith("bubblewrap"):
        from tracker.validation.sandbox import SandboxUnavailable

        raise SandboxUnavailable(
            f"require_isolation is set but this worker validates with {executor.isolation}: "
            "install bubblewrap and restart `tracker serve`"
        )
    pending = start_validation(
        lesson.folder, source, device=device, limits=limits, executor=executor, seed=request.seed
    )
    return Started(request, lesson, source, pending)


def check_review_allowed(store: Store, *, learner_id: int, lesson_id: str, now: datetime) -> None:
    """A review submission needs the lesson (an exercise) passed, and a clock past its card.

    Checked before any worker starts. The clock is compared here, once: a card
    changed by another process while this submission is validated is not an
    error (the rating is then dated just after that change).
    """
    from tracker.ledger import code_card_latest
    from tracker.standing import has_passed

    exercise_lesson(lesson_id)
    with store.read() as session:
        passed = has_passed(session, learner_id=learner_id, lesson_id=lesson_id)
        latest = code_card_latest(session, learner_id=learner_id, lesson_id=lesson_id)
    if not passed:
        raise NotPassedYet(
            f"--review is for lessons already passed; submit {lesson_id} without --review first"
        )
    if latest is not None and now < latest[1]:
        raise UsageError(
            f"card {latest[0]} was last changed at "
            f"{latest[1].astimezone(store.clock.tz):%Y-%m-%d %H:%M}; "
            "a rating cannot be dated before that (check TRACKER_NOW)"
        )


def submit(
    store: Store,
    request: SubmitRequest | Started,
    *,
    learner_id: int,
    now: datetime,
    executor: Executor | None = None,
    cancel: threading.Event | None = None,
) -> SubmitOutcome:
    """Validate the request's file against its lesson and record the outcome, once.

    ``request`` may be a ``Started`` validation (a cold CLI starts its workers
    before opening the database). ``cancel`` set while the checks run (the
    learner pressed Ctrl-C on a handed-off submit) records a cancelled attempt
    and nothing else.
    """
    if isinstance(request, SubmitRequest):
        recorded = recorded_outcome(store, learner_id=learner_id, request_id=request.request_id)
        if recorded is not None:
            return recorded
        if request.for_review:
            check_review_allowed(store, learner_id=learner_id, lesson_id=request.lesson_id, now=now)
        started = begin_validation(request, settings=store.settings, executor=executor)
    else:
        started = request
    try:
        verdict = started.pending.result()
    except BaseException:
        started.pending.cancel(kill=True)
        raise
    cancelled = cancel is not None and cancel.is_set()
    if cancelled:
        verdict.passed = False
        verdict.error = CANCELLED
    verdict.recorded = verdict.passed
    return record_submission(
        store, started, verdict, learner_id=learner_id, now=now, cancelled=cancelled
    )


def recorded_outcome(store: Store, *, learner_id: int, request_id: str) -> SubmitOutcome | None:
    """The outcome of a request recorded before, or None."""
    with store.read() as session:
        return _recorded(session, learner_id=learner_id, request_id=request_id, clock=store.clock)


def _recorded(
    session: Any, *, learner_id: int, request_id: str, clock: Clock
) -> SubmitOutcome | None:
    from tracker.db.models import PracticeAttempt, Submission
    from tracker.ledger import review_of_submission
    from tracker.validation.verdict import verdict_from

    row = session.scalars(
        select(Submission).where(
            Submission.learner_id == learner_id, Submission.request_id == request_id
        )
    ).one_or_none()
    if row is None:
        return None
    document = json.loads(row.verdict_json)
    review = (
        review_of_submission(session, submission_id=row.id, clock=clock) if row.for_review else None
    )
    practice = session.scalar(
        select(PracticeAttempt.id).where(PracticeAttempt.submission_id == row.id)
    )
    return SubmitOutcome(
        verdict=verdict_from(document),
        submission_id=row.id,
        for_review=row.for_review,
        review=review,
        cancelled=bool(row.error == CANCELLED),
        replayed=True,
        practice=practice is not None,
    )


def record_submission(
    store: Store,
    started: Started,
    verdict: Verdict,
    *,
    learner_id: int,
    now: datetime,
    cancelled: bool = False,
) -> SubmitOutcome:
    from tracker.db.models import Lesson, Submission
    from tracker.progress import record_passed_lesson

    request = started.request
    today = store.clock.local_day(now)
    lesson_id = started.lesson.id
    review = None
    practice = False
    with store.write() as session:
        already = _recorded(
            session, learner_id=learner_id, request_id=request.request_id, clock=store.clock
        )
        if already is not None:  # the other path recorded it while this one validated
            return already
        row = Submission(
            learner_id=learner_id,
            lesson_id=lesson_id,
            request_id=request.request_id,
            submitted_at=now,
            local_date=today,
            code_sha256=started.code_sha256,
            passed=verdict.passed,
            for_review=request.for_review,
            device=verdict.device,
            isolation=verdict.isolation,
            duration_s=verdict.duration_s,
            verdict_json=json.dumps(verdict.as_dict(), ensure_ascii=False),
            error=verdict.error,
        )
        session.add(row)
        session.flush()
        if verdict.passed and not request.for_review:  # a review is logged on its card
            lesson = session.get(Lesson, lesson_id)
            if lesson is None:  # pragma: no cover - the store syncs lessons on open
                raise LessonNotFound(f"lesson {lesson_id!r} is not in the database")
            passed = record_passed_lesson(
                session,
                learner_id=learner_id,
                lesson=lesson,
                kind="submission",
                completed_at=now,
                local_date=today,
                submission_id=row.id,
            )
            practice = not passed.first_pass
        if request.for_review and not cancelled:
            from tracker.ledger import rate_code_submission

            rated = rate_code_submission(
                session,
                learner_id=learner_id,
                lesson_id=lesson_id,
                passed=verdict.passed,
                now=now,
                settings=store.settings,
                submission_id=row.id,
            )
            review = rated.as_dict() if rated is not None else None
        submission_id = row.id
    return SubmitOutcome(
        verdict=verdict,
        submission_id=submission_id,
        for_review=request.for_review,
        review=review,
        cancelled=cancelled,
        practice=practice,
    )
