"""`tracker due` and `tracker review`: listing, rating, bad input, sessions, transactions.

Time is pinned with TRACKER_NOW; the conftest config says UTC with the 04:00
day boundary. Lessons are passed at 2025-03-01 09:00, so their cards are due then.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from review_support import card_rows, due_json, log_rows, pass_lessons
from sqlalchemy import event, select

from tracker.errors import CardNotFound, CardNotRatable, InvalidRating

PASSED_AT = "2025-03-01T09:00"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def learner(store, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    """A learner who passed transformer-1 (3 questions) and attention-mechanism-1
    (4 questions and a code card) this morning."""
    monkeypatch.setenv("TRACKER_NOW", PASSED_AT)
    pass_lessons(store, ("transformer-1", PASSED_AT), ("attention-mechanism-1", PASSED_AT))
    return store


def card_id(store, lesson: str, kind: str = "question", index: int = 0) -> int:  # noqa: ANN001
    from tracker.db.models import ReviewCard

    with store.read() as session:
        return session.scalar(
            select(ReviewCard.id).where(
                ReviewCard.lesson_id == lesson,
                ReviewCard.kind == kind,
                ReviewCard.question_index == index,
            )
        )


# --- parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("again", 1), ("Hard", 2), (" good ", 3), ("EASY", 4), ("1", 1), ("4", 4), (3, 3)],
)
def test_parse_rating_accepts_names_and_numbers(text: str, value: int) -> None:
    from tracker.reviews import parse_rating

    assert parse_rating(text) == value


@pytest.mark.parametrize("text", ["0", "5", "", "meh", "good!", "3.0", "-1"])
def test_parse_rating_refuses_anything_else(text: str) -> None:
    from tracker.reviews import parse_rating

    with pytest.raises(InvalidRating, match="use 1-4 or again, hard, good, easy"):
        parse_rating(text)


# --- due ---------------------------------------------------------------------


def test_due_json_lists_cards_oldest_first_with_prompts(learner, cli_run) -> None:  # noqa: ANN001
    items = due_json(cli_run)
    assert len(items) == 3 + 4 + 1
    assert [i["lesson"] for i in items] == ["transformer-1"] * 3 + ["attention-mechanism-1"] * 5
    first = items[0]
    assert set(first) >= {"card", "concept", "depth", "prompt", "due", "lesson", "kind", "state"}
    assert (first["concept"], first["depth"], first["kind"], first["state"]) == (
        "transformer",
        1,
        "question",
        "learning",
    )
    assert first["due"] == "2025-03-01T09:00:00+00:00"
    with learner.read() as session:
        from tracker.db.models import Lesson

        questions = json.loads(session.get(Lesson, "transformer-1").questions_json)
    assert [i["prompt"] for i in items[:3]] == [q["prompt"] for q in questions]
    code = items[-1]
    assert code["kind"] == "code"
    assert "tracker submit attention-mechanism-1" not in code["prompt"]
    assert "attention" in code["prompt"].lower()


def test_due_text_and_empty(learner, cli_run, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    result = cli_run("due")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[0].split() == ["card", "due", "kind", "concept", "prompt"]
    assert lines[-1] == (
        "7 cards due: run `tracker review`; 1 code card: `tracker submit LESSON FILE --review`"
    )
    assert "transformer@1" in lines[1]
    for card in card_rows(learner):
        if card_rows(learner)[card]["kind"] == "question":
            assert cli_run("review", str(card), "--rating", "good").exit_code == 0
    code = card_id(learner, "attention-mechanism-1", "code")
    from tracker.ledger import rate_code_submission

    with learner.write() as session:
        rate_code_submission(
            session,
            learner_id=learner.learner_id,
            lesson_id="attention-mechanism-1",
            passed=True,
            now=T0,
            settings=learner.settings,
            submission_id=None,
        )
    assert code in card_rows(learner)
    assert cli_run("due").output == "Nothing due today.\n"
    assert due_json(cli_run) == []


def test_due_looks_to_the_end_of_the_learner_day(learner, cli_run, monkeypatch) -> None:  # noqa: ANN001
    """Day boundary 04:00: a card due at 03:30 tomorrow is due today; one at 04:30 is not."""
    from tracker.db.models import ReviewCard

    a, b = card_id(learner, "transformer-1", index=0), card_id(learner, "transformer-1", index=1)
    with learner.write() as session:
        session.get(ReviewCard, a).due = datetime(2025, 3, 2, 3, 30, tzinfo=UTC)
        session.get(ReviewCard, b).due = datetime(2025, 3, 2, 4, 30, tzinfo=UTC)
    listed = {i["card"] for i in due_json(cli_run)}
    assert a in listed and b not in listed
    monkeypatch.setenv("TRACKER_NOW", "2025-03-02T03:59")  # still the learner-day of 1 March
    listed = {i["card"] for i in due_json(cli_run)}
    assert a in listed and b not in listed
    monkeypatch.setenv("TRACKER_NOW", "2025-03-02T04:00")
    listed = {i["card"] for i in due_json(cli_run)}
    assert a in listed and b in listed


def test_suspended_cards_are_not_due(learner, cli_run) -> None:  # noqa: ANN001
    from tracker.db.models import ReviewCard

    a = card_id(learner, "transformer-1")
    with learner.write() as session:
        session.get(ReviewCard, a).suspended = True
    assert a not in {i["card"] for i in due_json(cli_run)}


def test_due_only_lists_this_learners_cards(learner, cli_run, tracker_env: Path) -> None:  # noqa: ANN001
    from review_support import write_config

    write_config(tracker_env / "config.toml", learner="someone-else")
    assert due_json(cli_run) == []


# --- review CARD --rating ----------------------------------------------------


def test_rating_one_card_updates_the_card_and_appends_a_log(learner, cli_run) -> None:  # noqa: ANN001
    a = card_id(learner, "transformer-1")
    result = cli_run("review", str(a), "--rating", "good")
    assert result.exit_code == 0, result.output
    card = card_rows(learner)[a]
    assert result.stdout == (
        f"card {a} rated good: next due {card['due'].date().isoformat()} "
        f"(in {(card['due'].date() - T0.date()).days} days)\n"
    )
    assert card["state"] == 2 and card["step"] is None  # no learning steps: straight to review
    assert card["reps"] == 1 and card["lapses"] == 0
    assert card["last_review"] == T0
    assert card["stability"] > 0 and 1 <= card["difficulty"] <= 10
    assert card["due"] - T0 >= timedelta(days=1)
    assert log_rows(learner) == [(a, 3, T0, T0.date(), None)]
    assert a not in {i["card"] for i in due_json(cli_run)}


def test_rating_json(learner, cli_run) -> None:  # noqa: ANN001
    a = card_id(learner, "transformer-1")
    result = cli_run("review", str(a), "-r", "again", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["card"] == a and doc["rating"] == "again" and doc["early"] is False
    assert doc["previous_due"] == "2025-03-01T09:00:00+00:00"
    assert doc["due"] == card_rows(learner)[a]["due"].isoformat()


@pytest.mark.parametrize("bad", ["5", "0", "meh", "goodish"])
def test_bad_rating_is_refused_and_nothing_changes(learner, cli_run, bad: str) -> None:  # noqa: ANN001
    a = card_id(learner, "transformer-1")
    before = card_rows(learner)
    result = cli_run("review", str(a), "--rating", bad)
    assert result.exit_code == 2
    assert result.stderr == f"Error: invalid rating '{bad}': use 1-4 or again, hard, good, easy\n"
    assert card_rows(learner) == before and log_rows(learner) == []


def test_unknown_card_is_exit_2_with_one_line(learner, cli_run) -> None:  # noqa: ANN001
    result = cli_run("review", "9999", "--rating", "good")
    assert result.exit_code == 2
    assert result.stderr == "Error: no review card 9999; see `tracker due`\n"
    assert log_rows(learner) == []
    result = cli_run("review", "9999")
    assert result.exit_code == 2
    assert result.stderr == "Error: no review card 9999; see `tracker due`\n"


def test_card_must_be_a_number_and_rating_needs_a_card(learner, cli_run) -> None:  # noqa: ANN001
    result = cli_run("review", "abc", "--rating", "good")
    assert result.exit_code == 2 and "is not a valid integer" in result.output
    result = cli_run("review", "99999999999999999999", "--rating", "good")
    assert result.exit_code == 2 and "is not in the range" in result.output
    result = cli_run("review", "--rating", "good")
    assert result.exit_code == 2 and "--rating needs a CARD" in result.output


def test_another_learners_card_is_unknown(learner, cli_run, tracker_env: Path) -> None:  # noqa: ANN001
    from review_support import write_config

    a = card_id(learner, "transformer-1")
    write_config(tracker_env / "config.toml", learner="someone-else")
    result = cli_run("review", str(a), "--rating", "good")
    assert (
        result.exit_code == 2 and result.stderr == f"Error: no review card {a}; see `tracker due`\n"
    )


def test_early_card_is_rated_with_a_note(learner, cli_run, monkeypatch) -> None:  # noqa: ANN001
    a = card_id(learner, "transformer-1")
    assert cli_run("review", str(a), "--rating", "good").exit_code == 0
    first = card_rows(learner)[a]
    assert first["due"].date().isoformat() > "2025-03-02"
    monkeypatch.setenv("TRACKER_NOW", "2025-03-02T18:00")
    result = cli_run("review", str(a), "--rating", "easy")
    assert result.exit_code == 0
    assert result.stderr == (
        f"note: card {a} was not due until {first['due'].date().isoformat()}; rated early\n"
    )
    after = card_rows(learner)[a]
    assert after["reps"] == 2 and len(log_rows(learner)) == 2
    assert after["due"] != first["due"]


def test_rating_a_card_again_the_same_day_replaces_the_days_rating(
    learner,  # noqa: ANN001
    cli_run,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = card_id(learner, "transformer-1")
    assert cli_run("review", str(a), "--rating", "again").exit_code == 0
    first = card_rows(learner)[a]
    monkeypatch.setenv("TRACKER_NOW", "2025-03-01T18:00")
    result = cli_run("review", str(a), "--rating", "good", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["replaced"] == "again"
    after = card_rows(learner)[a]
    assert after["reps"] == 1 and [log[1] for log in log_rows(learner)] == [3]
    assert after["due"] > first["due"]
    text = cli_run("review", str(a), "--rating", "hard").stdout
    assert f"card {a} rated hard (replaces today's good)" in text


def test_a_code_card_is_not_rated_by_hand(learner, cli_run) -> None:  # noqa: ANN001
    code = card_id(learner, "attention-mechanism-1", "code")
    result = cli_run("review", str(code), "--rating", "good")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: card {code} is a code card: review it with "
        "`tracker submit attention-mechanism-1 FILE --review`\n"
    )
    assert log_rows(learner) == []


def test_core_errors_are_typed(learner) -> None:  # noqa: ANN001
    from tracker.ledger import rate_card

    code = card_id(learner, "attention-mechanism-1", "code")
    with learner.write() as session:
        for cid, rating, error in [(424242, 3, CardNotFound), (code, 3, CardNotRatable)]:
            with pytest.raises(error):
                rate_card(
                    session,
                    learner_id=learner.learner_id,
                    card_id=cid,
                    rating=rating,
                    now=T0,
                    settings=learner.settings,
                )
        with pytest.raises(InvalidRating):
            rate_card(
                session,
                learner_id=learner.learner_id,
                card_id=card_id(learner, "transformer-1"),
                rating="7",
                now=T0,
                settings=learner.settings,
            )


# --- atomicity ---------------------------------------------------------------


def test_a_failure_mid_rating_leaves_card_and_log_unchanged(learner, cli_run, db_path) -> None:  # noqa: ANN001
    """The card UPDATE runs, then the log INSERT fails: both roll back together."""
    a = card_id(learner, "transformer-1")
    before = card_rows(learner)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse_logs BEFORE INSERT ON review_logs "
            "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
    statements: list[str] = []

    @event.listens_for(learner.engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement.split()[0] + " " + statement.split()[1])

    from tracker.ledger import rate_card

    with (
        pytest.raises(Exception, match="disk on fire"),  # noqa: B017 - whichever wrapper
        learner.write() as session,
    ):
        rate_card(
            session,
            learner_id=learner.learner_id,
            card_id=a,
            rating="good",
            now=T0,
            settings=learner.settings,
        )
    event.remove(learner.engine, "before_cursor_execute", _seen)
    assert "UPDATE review_cards" in statements  # the card really was written first
    assert card_rows(learner) == before and log_rows(learner) == []

    result = cli_run("review", str(a), "--rating", "good")
    assert result.exit_code != 0 and result.stderr.startswith("Error:")
    assert "Traceback" not in result.output
    assert card_rows(learner) == before and log_rows(learner) == []


def test_a_python_error_after_the_card_update_rolls_back(learner, monkeypatch) -> None:  # noqa: ANN001
    import tracker.ledger as reviews

    a = card_id(learner, "transformer-1")
    before = card_rows(learner)

    def broken_log(**kwargs):  # noqa: ANN003, ANN202
        raise RuntimeError("crash between the card and its log")

    monkeypatch.setattr(reviews, "ReviewLog", broken_log)
    with pytest.raises(RuntimeError), learner.write() as session:
        reviews.rate_card(
            session,
            learner_id=learner.learner_id,
            card_id=a,
            rating=3,
            now=T0,
            settings=learner.settings,
        )
    assert card_rows(learner) == before and log_rows(learner) == []


# --- interactive session -----------------------------------------------------


def test_interactive_session_rates_reveals_and_reprompts(learner, cli_run) -> None:  # noqa: ANN001
    # card 1: Enter, "good"; card 2: Enter, "7" (refused), "1"; card 3: Enter, "easy";
    # then four attention questions; the code card is listed apart, its skeleton declined.
    answers = ["", "good", "", "7", "1", "", "easy"] + ["", "3"] * 4 + ["n"]
    result = cli_run("review", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("Q: ") == 7 and out.count("A: ") == 7
    assert "[7/7]" in out and "[8/" not in out  # only the cards this session rates count
    assert "invalid rating '7': use 1-4 or again, hard, good, easy" in out
    assert "Code cards due (1): write the exercise again from a blank file." in out
    assert (
        "  attention-mechanism-1: tracker lesson exercise attention-mechanism-1 -o "
        "attention-mechanism-1.py --force, then tracker submit attention-mechanism-1 "
        "attention-mechanism-1.py --review"
    ) in out
    assert out.rstrip().endswith(
        "Rated 7 of 7. 1 code card is reviewed with `tracker submit LESSON FILE --review`."
    )
    ratings = [rating for _, rating, *_ in log_rows(learner)]
    assert ratings == [3, 1, 4, 3, 3, 3, 3]
    assert [i["kind"] for i in due_json(cli_run)] == ["code"]


def test_the_answer_is_shown_only_after_enter(learner, cli_run) -> None:  # noqa: ANN001
    result = cli_run("review", input="q\n")
    assert "Q: " in result.output and "A: " not in result.output
    assert log_rows(learner) == []


@pytest.mark.parametrize("stop", ["q", "quit", "Q", None], ids=["q", "quit", "Q", "eof"])
def test_quitting_midway_keeps_earlier_ratings(learner, cli_run, stop: str | None) -> None:  # noqa: ANN001
    answers = ["", "good", "", "hard", ""]  # two rated, the third card revealed
    if stop is not None:
        answers.append(stop)
    result = cli_run("review", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Stopped; every rating so far is saved." in result.output
    assert "Rated 2 of 7. 5 still due: run `tracker review` again." in result.output
    assert [r for _, r, *_ in log_rows(learner)] == [3, 2]
    assert len(due_json(cli_run)) == 6


def test_quitting_at_the_reveal_prompt(learner, cli_run) -> None:  # noqa: ANN001
    result = cli_run("review", input="\ngood\nq\n")
    assert result.exit_code == 0
    assert [r for _, r, *_ in log_rows(learner)] == [3]


def test_interactive_with_nothing_due(store, cli_run) -> None:  # noqa: ANN001
    result = cli_run("review", input="\n")
    assert result.exit_code == 0 and result.output.endswith("Nothing due today.\n")


def test_interactive_review_of_one_early_card(learner, cli_run, monkeypatch) -> None:  # noqa: ANN001
    a = card_id(learner, "transformer-1")
    cli_run("review", str(a), "--rating", "good")
    result = cli_run("review", str(a), input="\n4\n")
    assert result.exit_code == 0
    assert f"note: card {a} is not due until" in result.stderr
    assert "rated easy (replaces today's good)" in result.stdout
    assert [r for _, r, *_ in log_rows(learner)] == [4]  # one rating a day counts


def test_interactive_json_is_refused(learner, cli_run) -> None:  # noqa: ANN001
    result = cli_run("review", "--json")
    assert result.exit_code == 2 and "--json needs --rating" in result.output


# --- code cards --------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "rating", "retracted"),
    [
        ([True], "good", 0),
        ([False], "again", 0),
        ([False, True], "hard", 1),  # a pass after a failed try that day: Again becomes Hard
        ([False, False], "again", 0),  # one review a day counts: the second try changes nothing
        ([True, False], "good", 0),  # nor does a failed try after the day's pass
        ([False, True, True], "hard", 1),
    ],
)
def test_one_code_review_a_day_counts(
    learner,  # noqa: ANN001
    outcomes: list[bool],
    rating: str,
    retracted: int,
) -> None:
    from tracker.db.models import Submission
    from tracker.ledger import rate_code_submission

    code = card_id(learner, "attention-mechanism-1", "code")
    results = []
    for number, passed in enumerate(outcomes):
        with learner.write() as session:
            submission = Submission(
                learner_id=learner.learner_id,
                lesson_id="attention-mechanism-1",
                submitted_at=T0,
                local_date=T0.date(),
                code_sha256="0" * 64,
                passed=passed,
                for_review=True,
                device="cpu",
                isolation="none",
                duration_s=0.1,
                verdict_json="{}",
            )
            session.add(submission)
            session.flush()
            results.append(
                rate_code_submission(
                    session,
                    learner_id=learner.learner_id,
                    lesson_id="attention-mechanism-1",
                    passed=passed,
                    now=T0 + timedelta(hours=1 + number),
                    settings=learner.settings,
                    submission_id=submission.id,
                )
            )
    result = results[-1]
    assert result is not None
    assert (result.card_id, result.rating) == (code, rating)
    row = card_rows(learner)[code]
    assert result.due == row["due"] and result.due > T0 + timedelta(hours=1)
    code_logs = [log for log in log_rows(learner) if log[0] == code]
    assert [log[1] for log in code_logs] == [["again", "hard", "good", "easy"].index(rating) + 1]
    assert row["reps"] == 1
    with learner.read() as session:
        from sqlalchemy import func, select

        from tracker.db.models import RetractedReview

        assert session.scalar(select(func.count()).select_from(RetractedReview)) == retracted


def test_a_code_review_the_next_day_is_a_new_entry(learner) -> None:  # noqa: ANN001
    from tracker.ledger import rate_code_submission

    code = card_id(learner, "attention-mechanism-1", "code")
    for days, passed in ((0, False), (1, True)):
        with learner.write() as session:
            rate_code_submission(
                session,
                learner_id=learner.learner_id,
                lesson_id="attention-mechanism-1",
                passed=passed,
                now=T0 + timedelta(days=days, hours=1),
                settings=learner.settings,
                submission_id=None,
            )
    assert [log[1] for log in log_rows(learner) if log[0] == code] == [1, 3]


def test_rate_code_submission_without_a_code_card_is_none(learner) -> None:  # noqa: ANN001
    from tracker.ledger import rate_code_submission

    with learner.write() as session:
        for lesson in ("transformer-1", "multi-head-attention-2", "no-such-lesson"):
            assert (
                rate_code_submission(
                    session,
                    learner_id=learner.learner_id,
                    lesson_id=lesson,
                    passed=True,
                    now=T0,
                    settings=learner.settings,
                    submission_id=None,
                )
                is None
            )
    assert log_rows(learner) == []


# --- the due query: plan and imports -----------------------------------------


def test_due_queries_use_the_learner_due_index(learner) -> None:  # noqa: ANN001
    """EXPLAIN QUERY PLAN of the exact SQL `due` and the check-in's counts run."""
    from tracker.course import load_due
    from tracker.reviews import list_due

    captured: list[tuple[str, tuple]] = []

    @event.listens_for(learner.engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if "FROM review_cards" in statement:
            captured.append((statement, parameters))

    until = T0 + timedelta(days=1)
    with learner.read() as session:
        list_due(session, learner_id=learner.learner_id, until=until)
        load_due(session, learner_id=learner.learner_id, until=until)
    event.remove(learner.engine, "before_cursor_execute", _capture)
    assert len(captured) == 3
    raw = learner.engine.raw_connection()
    try:
        for statement, parameters in captured:
            plan = raw.cursor().execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            details = [row[-1] for row in plan]
            card_steps = [d for d in details if "review_cards" in d]
            assert card_steps, details
            assert all(
                re.search(r"USING (COVERING )?INDEX ix_review_cards_learner_due\b", d)
                for d in card_steps
            ), details
            assert any("due<?" in d.replace(" ", "") for d in card_steps), details
            assert not any(d.startswith("SCAN review_cards") for d in details), details
    finally:
        raw.close()


def test_due_does_not_import_fsrs_or_torch(learner) -> None:  # noqa: ANN001
    code = (
        "import sys\n"
        "from tracker.cli import cli\n"
        "try:\n"
        "    cli(['due', '--json'], standalone_mode=False)\n"
        "finally:\n"
        "    names = ('torch', 'fsrs', 'pandas', 'alembic', 'numpy')\n"
        "    heavy = sorted(m for m in names if m in sys.modules)\n"
        "    print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in result.stderr
    assert len(json.loads(result.stdout)) == 8


def test_every_review_command_has_help(cli_run) -> None:  # noqa: ANN001
    for command in ("due", "review", "optimize"):
        result = cli_run(command, "--help")
        assert result.exit_code == 0 and "Example" in result.output


# --- PostgreSQL --------------------------------------------------------------


@pytest.mark.postgres
def test_rating_round_trip_on_postgresql(pg_url: str, cli_run, monkeypatch) -> None:  # noqa: ANN001
    from tracker.store import open_store

    monkeypatch.setenv("TRACKER_DB", pg_url)
    monkeypatch.setenv("TRACKER_NOW", PASSED_AT)
    store = open_store()
    try:
        pass_lessons(store, ("attention-mechanism-1", PASSED_AT))
        items = due_json(cli_run)
        assert len(items) == 5 and items[0]["due"] == "2025-03-01T09:00:00+00:00"
        first = items[0]["card"]
        result = cli_run("review", str(first), "--rating", "good", "--json")
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        row = card_rows(store)[first]
        assert row["due"].tzinfo is not None and row["due"].isoformat() == doc["due"]
        assert row["last_review"] == T0 and row["reps"] == 1 and row["state"] == 2
        assert log_rows(store) == [(first, 3, T0, T0.date(), None)]
        assert first not in {i["card"] for i in due_json(cli_run)}
        # the same history on SQLite gives the same schedule (seeded fuzz, UTC throughout)
        from tracker.ledger import rate_card

        with store.write() as session:
            again = rate_card(
                session,
                learner_id=store.learner_id,
                card_id=first,
                rating="again",
                now=T0 + timedelta(days=3),
                settings=store.settings,
            )
        assert card_rows(store)[first]["lapses"] == 1 and again.state == "review"
    finally:
        store.close()


def test_a_rating_cannot_go_back_in_time(learner, cli_run, monkeypatch) -> None:  # noqa: ANN001
    a = card_id(learner, "transformer-1")
    monkeypatch.setenv("TRACKER_NOW", "2025-03-01T10:00")
    assert cli_run("review", str(a), "--rating", "good").exit_code == 0
    before, logs = card_rows(learner), log_rows(learner)
    monkeypatch.setenv("TRACKER_NOW", "2025-02-25T10:00")  # before the card's last review
    result = cli_run("review", str(a), "--rating", "good")
    assert result.exit_code == 2
    assert "a rating cannot be dated before that" in result.stderr
    assert card_rows(learner) == before and log_rows(learner) == logs
