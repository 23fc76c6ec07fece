"""Two weeks of a new learner, scripted on a fixed clock, and the exact numbers it leaves.

Passes, re-submits of a passed lesson, a study session read again, reviews
rated, a code card failed and then passed on one day, a missed day that breaks
the streak, and a move from UTC to Asia/Seoul halfway through. After each
step the check-in, the history and the review log must say exactly what
happened, counting each thing once.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from test_usecases import ATTENTION, InProcessExecutor

from tracker.config import load_settings
from tracker.usecases.checkin import checkin, learn
from tracker.usecases.history import history
from tracker.usecases.reviews import due, rate
from tracker.usecases.submit import SubmitRequest, submit

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday
CORRECT = ATTENTION / "correct_matmul.py"
WRONG_FOR_THIS_LESSON = ATTENTION.parent / "multi-head-attention-2" / "correct.py"


def day(n: int, hour: int = 9) -> datetime:
    return START + timedelta(days=n - 1, hours=hour - 9)


def submit_at(store, when: datetime, path: Path, *, review: bool = False):  # noqa: ANN001, ANN201
    request = SubmitRequest("attention-mechanism-1", path, device="cpu", for_review=review, seed=1)
    return submit(
        store, request, learner_id=store.learner_id, now=when, executor=InProcessExecutor()
    )


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def kinds(store) -> dict[str, int]:  # noqa: ANN001
    found: dict[str, int] = {}
    for event in history(store, learner_id=store.learner_id).events:
        found[event.kind] = found.get(event.kind, 0) + 1
    return found


def test_two_weeks(store, db_path: Path, tracker_env: Path) -> None:  # noqa: ANN001
    me = store.learner_id
    # Day 1: a check-in, then attention-mechanism-1 passed, then submitted again twice.
    assert checkin(store, learner_id=me, now=day(1, 8)).streak_days == 1
    assert submit_at(store, day(1, 10), CORRECT).practice is False
    assert submit_at(store, day(1, 11), CORRECT).practice is True
    assert submit_at(store, day(1, 12), CORRECT).practice is True
    one = checkin(store, learner_id=me, now=day(1, 13))
    assert (one.sessions_completed, one.lessons_passed, one.streak_days) == (1, 1, 1)
    assert [item.lesson for item in one.done_today] == ["attention-mechanism-1"]
    assert one.focus is not None and one.focus.lesson == "multi-head-attention-1"
    assert len(one.connections) == 1  # each earlier session once, not once per re-submit

    # Day 2: transformer-1 read and recorded, then read again.
    assert learn(store, learner_id=me, now=day(2), lesson_id="transformer-1").first_pass
    assert not learn(store, learner_id=me, now=day(2, 15), lesson_id="transformer-1").first_pass
    two = checkin(store, learner_id=me, now=day(2, 16))
    assert (two.sessions_completed, two.streak_days) == (2, 2)

    # Day 3: every question card due rated good; the code card failed, then passed.
    questions = [c for c in due(store, learner_id=me, now=day(3)).cards if c.kind == "question"]
    assert len(questions) == 7  # 4 attention questions (day 1) + 3 transformer ones (day 2)
    for number, card in enumerate(questions):
        rate(
            store,
            learner_id=me,
            now=day(3) + timedelta(minutes=number),
            card_id=card.card,
            rating="good",
        )
    failed = submit_at(store, day(3, 18), WRONG_FOR_THIS_LESSON, review=True)
    assert failed.review is not None and failed.review["rating"] == "again"
    passed = submit_at(store, day(3, 19), CORRECT, review=True)
    assert passed.review is not None
    assert (passed.review["rating"], passed.review["replaced"]) == ("hard", "again")
    three = checkin(store, learner_id=me, now=day(3, 20))
    assert (three.streak_days, three.due_reviews, three.due_code_cards) == (3, 0, ())

    # Day 4 missed. Day 5: the streak starts again, and says what broke it.
    five = checkin(store, learner_id=me, now=day(5))
    assert (five.streak.current, five.streak.missed, five.streak.best) == (1, 1, 3)

    # Day 6: the learner moves to Seoul. 01:30 there is still day 6 by the 04:00 boundary.
    (tracker_env / "config.toml").write_text('timezone = "Asia/Seoul"\n', encoding="utf-8")
    seoul = store.with_settings(load_settings())
    late = datetime(2026, 3, 8, 1, 30, tzinfo=seoul.clock.tz)  # 2026-03-07 16:30 UTC
    six = checkin(seoul, learner_id=me, now=late)
    assert six.date == date(2026, 3, 7) and six.streak_days == 2
    # Earlier events keep the day they were recorded on.
    days = {e.kind: e.date for e in history(seoul, learner_id=me).events if e.kind == "submission"}
    assert days == {"submission": date(2026, 3, 2)}

    # Days 7-14: a check-in every day but day 10 (days 5-9 were the best run, 5 days).
    for n in (7, 8, 9, 11, 12, 13, 14):
        last = checkin(seoul, learner_id=me, now=day(n))
    assert (last.streak.current, last.streak.best, last.sessions_completed) == (4, 5, 2)

    # The ledger: 7 question ratings and one code rating for day 3, Again replaced by Hard.
    assert rows(db_path, "SELECT rating, count(*) FROM review_logs GROUP BY rating") == [
        (2, 1),
        (3, 7),
    ]
    assert rows(db_path, "SELECT rating, reason FROM retracted_reviews") == [(1, "replaced")]
    assert rows(db_path, "SELECT count(*) FROM study_sessions") == [(2,)]
    assert rows(db_path, "SELECT kind, count(*) FROM practice_attempts GROUP BY kind") == [
        ("study", 1),
        ("submission", 2),
    ]
    assert rows(db_path, "SELECT count(*) FROM checkins") == [(12,)]
    assert kinds(store) == {
        "checkin": 12,
        "submission": 1,
        "study": 1,
        "practice": 3,
        "review": 8,
        # The day's failed code review: its Again was replaced by the later pass's Hard,
        # so the try itself shows as an attempt.
        "attempt": 1,
    }
