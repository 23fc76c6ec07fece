"""The use cases, called directly with an explicit `now`: no CliRunner, no TRACKER_NOW.

Submissions run on an in-process executor (the sandbox's own ``worker.run_job``,
without the sandbox), so the judge and the recording are the real ones and a
test takes milliseconds.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracker.errors import CardNotRatable, LessonLocked, LessonNotFound, UsageError
from tracker.usecases import catalog, checkin, reviews
from tracker.usecases.submit import CANCELLED, NotPassedYet, SubmitRequest, submit
from tracker.validation.execution import RawRun

ROOT = Path(__file__).resolve().parents[1]
ATTENTION = ROOT / "tests" / "submissions" / "attention-mechanism-1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC: learner-day 2026-03-02


class InProcessExecutor:
    """Runs the worker in this process: the real probe and outputs, no sandbox."""

    isolation = "in-process (tests)"
    late_inputs = False

    def __init__(self, before_run=None) -> None:  # noqa: ANN001
        self.before_run = before_run
        self.cancelled = False

    def run(self, job_dir: Path, limits) -> RawRun:  # noqa: ANN001
        from tracker.validation import worker

        if self.before_run is not None:
            self.before_run()
        if self.cancelled:
            return RawRun(None, 0.0, 0, self.isolation, limit_hit="interrupted")
        code = worker.run_job(Path(job_dir))
        return RawRun(code, 0.01, 1, self.isolation)

    def cancel(self) -> None:
        self.cancelled = True


def rows(store, sql: str) -> list[tuple]:  # noqa: ANN001
    with sqlite3.connect(store.location.sqlite_path) as conn:
        return conn.execute(sql).fetchall()


def passing(store, now: datetime = T0) -> object:  # noqa: ANN001
    """attention-mechanism-1 passed at ``now``."""
    request = SubmitRequest(
        "attention-mechanism-1", ATTENTION / "correct_matmul.py", device="cpu", seed=3
    )
    return submit(
        store, request, learner_id=store.learner_id, now=now, executor=InProcessExecutor()
    )


# --- check-in, plan, learn ----------------------------------------------------------------


def test_checkin_records_the_day_once_and_counts_the_streak(store) -> None:  # noqa: ANN001
    first = checkin.checkin(store, learner_id=store.learner_id, now=T0)
    again = checkin.checkin(store, learner_id=store.learner_id, now=T0 + timedelta(hours=3))
    assert (first.date.isoformat(), first.streak_days, first.sessions_completed) == (
        "2026-03-02",
        1,
        0,
    )
    assert again.checked_in_at == first.checked_in_at == T0
    assert first.focus is not None and first.focus.lesson == "attention-mechanism-1"
    assert first.focus.next_step == (
        "tracker learn attention-mechanism-1, then tracker submit attention-mechanism-1 FILE"
    )
    # 02:00 the next morning is still the first learner-day (day_starts_at 4)...
    late = checkin.checkin(store, learner_id=store.learner_id, now=T0 + timedelta(hours=17))
    assert late.date.isoformat() == "2026-03-02"
    # ...and the next day makes a streak of two.
    nxt = checkin.checkin(store, learner_id=store.learner_id, now=T0 + timedelta(days=1))
    assert (nxt.date.isoformat(), nxt.streak_days) == ("2026-03-03", 2)
    assert rows(store, "SELECT local_date FROM checkins ORDER BY id") == [
        ("2026-03-02",),
        ("2026-03-03",),
    ]
    document = nxt.as_dict()
    assert set(document) >= {
        "date",
        "streak_days",
        "sessions_completed",
        "due_reviews",
        "focus",
        "connections",
        "plan",
    }
    assert json.loads(json.dumps(document)) == document  # plain JSON values only


def test_plan_records_nothing(store) -> None:  # noqa: ANN001
    document = checkin.plan(store, learner_id=store.learner_id, now=T0)
    assert document.focus is not None and document.plan.week[0].date == T0.date()
    assert rows(store, "SELECT count(*) FROM checkins") == [(0,)]


def test_learn_records_a_session_and_refuses_what_it_must(store) -> None:  # noqa: ANN001
    record = checkin.learn(store, learner_id=store.learner_id, now=T0, lesson_id="transformer-1")
    assert (record.concept, record.concept_depth, record.first_pass) == ("transformer", 1, True)
    assert record.cards_created == len(catalog.lesson_detail("transformer-1").spec.questions)
    with pytest.raises(LessonLocked):
        checkin.learn(store, learner_id=store.learner_id, now=T0, lesson_id="red-teaming-1")
    with pytest.raises(UsageError, match="passed by its exercise"):
        checkin.learn(store, learner_id=store.learner_id, now=T0, lesson_id="attention-mechanism-1")
    with pytest.raises(LessonNotFound):
        checkin.learn(store, learner_id=store.learner_id, now=T0, lesson_id="nope-1")
    view = checkin.view_lesson(
        store, learner_id=store.learner_id, lesson_id="positional-encoding-2"
    )
    assert not view.locked and view.concept_depth == 0


# --- submit --------------------------------------------------------------------------------


def test_a_pass_is_recorded_once_per_request(store) -> None:  # noqa: ANN001
    request = SubmitRequest(
        "attention-mechanism-1", ATTENTION / "correct_matmul.py", device="cpu", seed=3
    )
    outcome = submit(
        store, request, learner_id=store.learner_id, now=T0, executor=InProcessExecutor()
    )
    assert outcome.verdict.passed and outcome.verdict.recorded and outcome.exit_code == 0
    assert outcome.verdict.isolation == "in-process (tests)"
    assert rows(store, "SELECT lesson_id, depth FROM progress") == [("attention-mechanism-1", 1)]
    # The same request again (a retried hand-off): the recorded outcome, nothing new.
    never = InProcessExecutor(before_run=lambda: pytest.fail("validated twice"))
    again = submit(store, request, learner_id=store.learner_id, now=T0, executor=never)
    assert again.replayed and again.submission_id == outcome.submission_id
    assert again.as_dict()["checks"] == outcome.as_dict()["checks"]
    assert rows(store, "SELECT count(*) FROM submissions") == [(1,)]
    assert rows(store, "SELECT count(*) FROM study_sessions") == [(1,)]


def test_a_failure_records_only_the_attempt(store, tmp_path: Path) -> None:  # noqa: ANN001
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def scaled_dot_product_attention(q, k, v, mask=None):\n    return q, q\n")
    request = SubmitRequest("attention-mechanism-1", wrong, device="cpu", seed=3)
    outcome = submit(
        store, request, learner_id=store.learner_id, now=T0, executor=InProcessExecutor()
    )
    assert not outcome.verdict.passed and outcome.exit_code == 1
    assert rows(store, "SELECT passed FROM submissions") == [(0,)]
    assert rows(store, "SELECT count(*) FROM progress") == [(0,)]


def test_a_cancelled_submission_records_the_attempt_and_nothing_else(store) -> None:  # noqa: ANN001
    cancel = threading.Event()
    executor = InProcessExecutor(before_run=cancel.set)  # Ctrl-C while the checks run
    request = SubmitRequest("attention-mechanism-1", ATTENTION / "correct_matmul.py", seed=3)
    outcome = submit(
        store, request, learner_id=store.learner_id, now=T0, executor=executor, cancel=cancel
    )
    assert outcome.cancelled and outcome.exit_code == 1
    assert rows(store, "SELECT passed, error FROM submissions") == [(0, CANCELLED)]
    assert rows(store, "SELECT count(*) FROM progress") == [(0,)]


def test_a_review_rates_the_code_card_even_when_it_changed_meanwhile(store) -> None:  # noqa: ANN001
    """The fault: another process rates the card while this review is validated (issue 9, 7)."""
    with pytest.raises(NotPassedYet):
        submit(
            store,
            SubmitRequest(
                "attention-mechanism-1", ATTENTION / "correct_matmul.py", for_review=True
            ),
            learner_id=store.learner_id,
            now=T0,
            executor=InProcessExecutor(),
        )
    passing(store)
    later = T0 + timedelta(days=3)

    wrong = ATTENTION.parent / "multi-head-attention-2" / "correct.py"  # not this lesson's

    def concurrent_review() -> None:  # another process's failed review, while ours is checked
        request = SubmitRequest("attention-mechanism-1", wrong, for_review=True, seed=4)
        submit(
            store,
            request,
            learner_id=store.learner_id,
            now=later + timedelta(minutes=5),
            executor=InProcessExecutor(),
        )

    request = SubmitRequest(
        "attention-mechanism-1", ATTENTION / "correct_matmul.py", for_review=True, seed=5
    )
    outcome = submit(
        store,
        request,
        learner_id=store.learner_id,
        now=later,
        executor=InProcessExecutor(before_run=concurrent_review),
    )
    # Not refused: the pass upgrades the day's Again (the other process's) to Hard,
    # dated at that change, not before it.
    assert outcome.verdict.passed and outcome.review is not None
    assert (outcome.review["rating"], outcome.review["replaced"]) == ("hard", "again")
    assert rows(store, "SELECT rating, reviewed_at FROM review_logs") == [
        (2, "2026-03-05 09:05:00.000000")
    ]
    assert rows(store, "SELECT rating, reason FROM retracted_reviews") == [(1, "replaced")]


def test_a_review_dated_before_the_card_changed_is_refused_before_validating(store) -> None:  # noqa: ANN001
    passing(store, now=T0 + timedelta(days=5))
    request = SubmitRequest(
        "attention-mechanism-1", ATTENTION / "correct_matmul.py", for_review=True
    )
    never = InProcessExecutor(before_run=lambda: pytest.fail("validated a refused review"))
    with pytest.raises(UsageError, match="a rating cannot be dated before that"):
        submit(store, request, learner_id=store.learner_id, now=T0, executor=never)


# --- rate, catalog -------------------------------------------------------------------------


def test_rate_a_question_card_and_refuse_a_code_card(store) -> None:  # noqa: ANN001
    passing(store)
    due = reviews.due(store, learner_id=store.learner_id, now=T0)
    question = next(c for c in due.cards if c.kind == "question")
    code = next(c for c in due.cards if c.kind == "code")
    result = reviews.rate(
        store, learner_id=store.learner_id, now=T0, card_id=question.card, rating="good"
    )
    assert result.rating == "good" and result.due_date > T0.date()
    assert rows(store, f"SELECT rating FROM review_logs WHERE card_id = {question.card}") == [(3,)]
    with pytest.raises(CardNotRatable):
        reviews.rate(store, learner_id=store.learner_id, now=T0, card_id=code.card, rating=3)
    queue = reviews.review_queue(store, learner_id=store.learner_id, now=T0)
    assert question.card not in {c.card for c in queue.cards}
    assert queue.code_cards == (code,)


def test_the_catalog_applies_the_lock_rule(store) -> None:  # noqa: ANN001
    before = {r.id: r.status for r in catalog.lessons(store, learner_id=store.learner_id).rows}
    assert before["attention-mechanism-1"] == "available"
    assert before["multi-head-attention-2"] == "locked"
    passing(store)
    after = {r.id: r.status for r in catalog.lessons(store, learner_id=store.learner_id).rows}
    assert after["attention-mechanism-1"] == "passed"
    assert after["multi-head-attention-2"] == "available"
    assert after["flash-attention-3"] == "locked"
    concepts = {c.id: c for c in catalog.concepts(store, learner_id=store.learner_id).rows}
    assert concepts["attention-mechanism"].depth == 1
    assert concepts["attention-mechanism"].status in {"in-progress", "mastered"}
    assert concepts["transformer"].status == "not-started"
