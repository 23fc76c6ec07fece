"""The check-in, plan and learn commands: CLI behaviour, the rows they write, bad paths.

Time is pinned with TRACKER_NOW; the conftest config says UTC with the default
04:00 day boundary unless a test writes its own config.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from review_support import pass_lessons

from tracker.clock import parse_instant

MAIN_PATH = ["attention-mechanism-1", "multi-head-attention-2", "flash-attention-3"]


def rows(db_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def checkin_at(cli_run, monkeypatch: pytest.MonkeyPatch, when: str) -> dict[str, Any]:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", when)
    result = cli_run("checkin", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == "" or "created a new tracker database" in result.stderr
    return json.loads(result.stdout)


def plan_ids(document: dict[str, Any], horizon: str) -> list[str]:
    return [item["lesson"] for item in document["plan"][horizon]]


def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    config = tmp_path / "other.toml"
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TRACKER_CONFIG", str(config))


# --- checkin ------------------------------------------------------------------


def test_fresh_learner(cli_run, monkeypatch: pytest.MonkeyPatch, db_path: Path) -> None:
    doc = checkin_at(cli_run, monkeypatch, "2025-11-10T09:00")
    assert {k: doc[k] for k in ("date", "streak_days", "sessions_completed", "due_reviews")} == {
        "date": "2025-11-10",
        "streak_days": 1,
        "sessions_completed": 0,
        "due_reviews": 0,
    }
    focus = doc["focus"]
    assert {k: focus[k] for k in ("concept", "depth", "lesson")} == {
        "concept": "attention-mechanism",
        "depth": 1,
        "lesson": "attention-mechanism-1",
    }
    assert focus["reason"] == (
        "attention-mechanism-1 starts the main path and needs nothing you have not done"
    )
    assert focus["first"] is None
    assert doc["connections"] == []
    # The main path is the spine; each concept's introduction comes before its deeper lesson.
    assert plan_ids(doc, "week") == [
        "attention-mechanism-1",
        "multi-head-attention-1",
        "multi-head-attention-2",
    ]
    everything = plan_ids(doc, "week") + plan_ids(doc, "month") + plan_ids(doc, "quarter")
    assert len(everything) == len(set(everything)) == doc["lessons_total"]
    assert set(doc["plan"]["week"][0]) >= {"concept", "depth", "lesson"}
    assert doc["checked_in_at"] == "2025-11-10T09:00:00+00:00"
    assert rows(db_path, "SELECT local_date FROM checkins") == [("2025-11-10",)]


def test_checking_in_twice_a_day_records_once(
    cli_run, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    first = checkin_at(cli_run, monkeypatch, "2025-11-10T09:00")
    again = checkin_at(cli_run, monkeypatch, "2025-11-10T21:30")
    assert again == first  # including checked_in_at: the first check-in of the day
    assert rows(db_path, "SELECT count(*) FROM checkins") == [(1,)]


def test_screen_for_a_person(cli_run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10T09:00")
    result = cli_run("checkin")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Check-in Mon 2025-11-10  |  streak 1 day  |  0 sessions completed  |  0/32 lessons passed"
    )
    assert "Reviews  none due" in lines
    assert "Today  attention-mechanism-1  (attention-mechanism, depth 1: what and why)" in lines
    assert "  This week     Mon 11-10  attention-mechanism-1  (exercise)" in lines
    assert "                Wed 11-12  multi-head-attention-1" in lines
    assert "                Fri 11-14  multi-head-attention-2  (exercise)" in lines
    assert result.stdout.isascii()


def test_streak_resets_after_a_skipped_day(
    cli_run, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    assert checkin_at(cli_run, monkeypatch, "2025-11-10T08:00")["streak_days"] == 1
    assert checkin_at(cli_run, monkeypatch, "2025-11-11T08:00")["streak_days"] == 2
    assert checkin_at(cli_run, monkeypatch, "2025-11-12T08:00")["streak_days"] == 3
    # 2025-11-13 skipped.
    after_gap = checkin_at(cli_run, monkeypatch, "2025-11-14T08:00")
    assert after_gap["streak_days"] == 1
    assert after_gap["focus"]["lesson"] == "attention-mechanism-1"
    # A day with a study session but no check-in keeps the streak going.
    monkeypatch.setenv("TRACKER_NOW", "2025-11-15T20:00")
    assert cli_run("learn", "transformer-1", "--yes").exit_code == 0
    doc = checkin_at(cli_run, monkeypatch, "2025-11-16T08:00")
    assert (doc["streak_days"], doc["sessions_completed"]) == (3, 1)
    # Back-filling an earlier day counts up to that day only.
    assert checkin_at(cli_run, monkeypatch, "2025-11-11T10:00")["streak_days"] == 2
    assert rows(db_path, "SELECT count(*) FROM checkins") == [(5,)]


def test_two_am_counts_for_the_day_before(
    cli_run, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    late = checkin_at(cli_run, monkeypatch, "2025-11-11T02:00")
    assert late["date"] == "2025-11-10"
    assert checkin_at(cli_run, monkeypatch, "2025-11-11T03:59")["date"] == "2025-11-10"
    morning = checkin_at(cli_run, monkeypatch, "2025-11-11T04:00")
    assert (morning["date"], morning["streak_days"]) == ("2025-11-11", 2)
    assert rows(db_path, "SELECT local_date FROM checkins ORDER BY local_date") == [
        ("2025-11-10",),
        ("2025-11-11",),
    ]


def test_two_am_in_another_timezone(
    cli_run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_config(tmp_path, monkeypatch, 'timezone = "Asia/Seoul"\n')
    assert checkin_at(cli_run, monkeypatch, "2025-11-11T02:00")["date"] == "2025-11-10"
    # 17:30 UTC is 02:30 the next morning in Seoul.
    assert checkin_at(cli_run, monkeypatch, "2025-11-10T17:30:00Z")["date"] == "2025-11-10"
    assert checkin_at(cli_run, monkeypatch, "2025-11-10T19:00:00Z")["date"] == "2025-11-11"


def test_a_midnight_boundary_counts_two_am_for_the_same_day(
    cli_run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_config(tmp_path, monkeypatch, 'timezone = "UTC"\nday_starts_at = 0\n')
    assert checkin_at(cli_run, monkeypatch, "2025-11-11T02:00")["date"] == "2025-11-11"


def test_due_reviews_come_before_new_material(cli_run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10T09:00")
    assert cli_run("learn", "transformer-1", "--yes").exit_code == 0
    doc = checkin_at(cli_run, monkeypatch, "2025-11-11T09:00")
    questions = doc["due_reviews"]
    assert questions >= 3  # one card per understanding-check question, all due
    focus = doc["focus"]
    assert focus["reviews_first"] == questions
    assert focus["first"] == f"{questions} reviews due first: run `tracker review`"
    assert focus["lesson"] == "attention-mechanism-1"  # still named, to study after
    assert [(c["concept"], c["relation"]) for c in doc["connections"]] == []
    screen = cli_run("checkin").stdout
    assert f"Reviews  {questions} reviews due: run `tracker review` first" in screen
    assert "  after your reviews: tracker learn attention-mechanism-1" in screen


def test_due_counts_cards_due_later_today_like_the_due_command(
    cli_run, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10T09:00")
    assert cli_run("learn", "transformer-1", "--yes").exit_code == 0
    first, second = (row[0] for row in rows(db_path, "SELECT id FROM review_cards LIMIT 2"))
    with sqlite3.connect(db_path) as conn:  # later today (before 04:00 tomorrow), and tomorrow
        conn.execute("UPDATE review_cards SET due = '2025-11-11 02:00:00.000000'")
        conn.execute(f"UPDATE review_cards SET due = '2025-11-12 09:00:00' WHERE id = {first}")
    doc = checkin_at(cli_run, monkeypatch, "2025-11-10T10:00")
    due = json.loads(cli_run("due", "--json").stdout)
    assert doc["due_reviews"] == len(due) >= 2
    assert first not in {card["card"] for card in due} and second in {c["card"] for c in due}


def test_the_main_path_reason_and_connections(
    cli_run, monkeypatch: pytest.MonkeyPatch, store
) -> None:  # noqa: ANN001
    pass_lessons(
        store,
        ("attention-mechanism-1", "2025-11-09T10:00"),
        ("multi-head-attention-2", "2025-11-10T10:00"),
    )
    doc = checkin_at(cli_run, monkeypatch, "2025-11-11T09:00")
    focus = doc["focus"]
    # flash-attention-3 is the main path's next step; its introduction comes first.
    assert (focus["lesson"], focus["concept"], focus["depth"], focus["rule"]) == (
        "flash-attention-1",
        "flash-attention",
        1,
        "foundation",
    )
    assert focus["reason"] == (
        "flash-attention-1 first: flash-attention's depth 1 (what and why) before "
        "flash-attention-3 at depth 3"
    )
    assert doc["connections"] == [
        {
            "date": "2025-11-10",
            "concept": "multi-head-attention",
            "depth": 2,
            "lesson": "multi-head-attention-2",
            "kind": "submission",
            "relation": "prerequisite",
        }
    ]
    assert doc["streak_days"] == 3  # 9th and 10th studied, 11th checked in
    screen = cli_run("checkin").stdout
    assert "  2025-11-10  multi-head-attention@2  multi-head-attention-2  (submission)" in screen


def test_a_learner_who_finished_the_main_path(
    cli_run, monkeypatch: pytest.MonkeyPatch, store
) -> None:  # noqa: ANN001
    pass_lessons(
        store,
        ("attention-mechanism-1", "2025-11-08T10:00"),
        ("multi-head-attention-2", "2025-11-09T10:00"),
        ("flash-attention-3", "2025-11-10T10:00"),
    )
    doc = checkin_at(cli_run, monkeypatch, "2025-11-12T09:00")
    assert doc["main_path"] == [{"lesson": lesson, "passed": True} for lesson in MAIN_PATH]
    focus = doc["focus"]
    assert (focus["lesson"], focus["rule"]) == ("mechanistic-interpretability-1", "balance")
    assert focus["reason"].startswith(
        "main path done; safety is your least-covered category (0 of 4 lessons passed)"
    )
    assert doc["connections"][0]["lesson"] == "multi-head-attention-2"
    planned = plan_ids(doc, "week") + plan_ids(doc, "month") + plan_ids(doc, "quarter")
    assert not set(planned) & set(MAIN_PATH)
    assert len(planned) == doc["lessons_total"] - 3
    assert (doc["streak_days"], doc["sessions_completed"]) == (1, 3)


def test_everything_passed(cli_run, monkeypatch: pytest.MonkeyPatch, store) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from tracker.db.models import Lesson

    with store.read() as session:
        everything = list(session.scalars(select(Lesson.id).order_by(Lesson.position)))
    pass_lessons(store, *((lesson, "2025-11-10T10:00") for lesson in everything))
    doc = checkin_at(cli_run, monkeypatch, "2025-11-11T09:00")
    assert doc["focus"] is None
    assert doc["connections"] == []
    assert doc["plan"] == {"week": [], "month": [], "quarter": []}
    assert doc["due_reviews"] > 0
    screen = cli_run("checkin")
    assert screen.exit_code == 0
    assert "every lesson is passed: nothing new to study" in screen.stdout
    assert "nothing left to plan" in screen.stdout


def test_sessions_per_week_sets_the_horizons(
    cli_run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_config(tmp_path, monkeypatch, 'timezone = "UTC"\nsessions_per_week = 1\n')
    doc = checkin_at(cli_run, monkeypatch, "2025-11-10T09:00")
    assert plan_ids(doc, "week") == ["attention-mechanism-1"]
    assert plan_ids(doc, "month")[:2] == ["multi-head-attention-1", "multi-head-attention-2"]
    assert len(plan_ids(doc, "month")) == 4
    assert [item["date"] for item in doc["plan"]["month"]][:2] == ["2025-11-17", "2025-11-24"]


def test_a_bad_clock_override_is_one_line(cli_run, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_run("init")
    monkeypatch.setenv("TRACKER_NOW", "next tuesday")
    result = cli_run("checkin")
    assert result.exit_code == 2
    assert result.stderr == "Error: TRACKER_NOW: not an ISO 8601 datetime: 'next tuesday'\n"


def test_checkin_keeps_heavy_modules_unimported(cli_run) -> None:  # noqa: ANN001
    cli_run("init")  # a new database would load Alembic: the daily case has one
    code = (
        "import sys\n"
        "from tracker.cli import cli\n"
        "try:\n"
        "    cli(['checkin'], standalone_mode=False)\n"
        "finally:\n"
        "    names = ('torch', 'alembic', 'apscheduler', 'fsrs', 'rich', 'numpy')\n"
        "    heavy = sorted(m for m in names if m in sys.modules)\n"
        "    print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in result.stderr
    assert "Today" in result.stdout


# --- plan ---------------------------------------------------------------------


def test_plan_matches_the_checkin_and_records_nothing(
    cli_run, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10T09:00")
    result = cli_run("plan", "--json")
    assert result.exit_code == 0
    alone = json.loads(result.stdout)
    assert rows(db_path, "SELECT count(*) FROM checkins") == [(0,)]
    assert alone["focus"]["lesson"] == "attention-mechanism-1"
    doc = checkin_at(cli_run, monkeypatch, "2025-11-10T09:00")
    assert {h: alone[h] for h in ("week", "month", "quarter")} == doc["plan"]
    screen = cli_run("plan").stdout
    assert screen.startswith("Plan from Mon 2025-11-10\n  next: attention-mechanism-1: ")
    assert "  This month    " in screen


# --- learn --------------------------------------------------------------------


def test_learn_records_a_session_when_confirmed(
    cli_run, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10T09:00")
    result = cli_run("learn", "transformer-1", input="y\n")
    assert result.exit_code == 0, result.output
    assert "Check your understanding" in result.stdout
    assert "Record this study session (transformer at depth 1)? [Y/n]" in result.stdout
    questions = rows(db_path, "SELECT count(*) FROM review_cards")[0][0]
    assert result.stdout.rstrip().endswith(
        "Recorded transformer-1 on 2025-11-10: transformer is at depth 1; "
        f"{questions} review cards added. Next: `tracker checkin`."
    )
    assert rows(db_path, "SELECT lesson_id, depth, kind, local_date FROM study_sessions") == [
        ("transformer-1", 1, "study", "2025-11-10")
    ]
    assert rows(db_path, "SELECT lesson_id, depth FROM progress") == [("transformer-1", 1)]


def test_learning_twice_is_practice_not_a_second_session(
    cli_run, monkeypatch: pytest.MonkeyPatch, db_path: Path, store
) -> None:  # noqa: ANN001
    pass_lessons(
        store,
        ("attention-mechanism-1", "2025-11-08T10:00"),
        ("multi-head-attention-2", "2025-11-09T10:00"),
    )
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10T09:00")
    first = cli_run("learn", "multi-head-attention-1", "--yes")
    assert first.exit_code == 0
    assert "multi-head-attention is at depth 2" in first.stdout
    cards = rows(db_path, "SELECT count(*) FROM review_cards")
    again = cli_run("learn", "multi-head-attention-1", "--yes")
    assert again.stdout.splitlines()[-1] == (
        "Recorded multi-head-attention-1 again on 2025-11-10 as practice (not a new session): "
        "multi-head-attention is at depth 2. Next: `tracker checkin`."
    )
    assert rows(db_path, "SELECT count(*) FROM review_cards") == cards
    assert rows(
        db_path, "SELECT count(*) FROM study_sessions WHERE lesson_id = 'multi-head-attention-1'"
    ) == [(1,)]
    assert rows(
        db_path,
        "SELECT kind, local_date FROM practice_attempts WHERE lesson_id = 'multi-head-attention-1'",
    ) == [("study", "2025-11-10")]
    assert rows(
        db_path, "SELECT max(depth) FROM progress WHERE concept_id = 'multi-head-attention'"
    ) == [(2,)]


def test_learn_declined_records_nothing(cli_run, db_path: Path) -> None:
    result = cli_run("learn", "transformer-1", input="n\n")
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith("Not recorded.")
    assert rows(db_path, "SELECT count(*) FROM study_sessions") == [(0,)]


def test_learn_at_the_end_of_input_says_so_in_one_line(cli_run, db_path: Path) -> None:
    result = cli_run("learn", "transformer-1", input="")
    assert result.exit_code == 1  # no answer is not a yes
    assert result.stdout.rstrip().endswith("Not recorded: no answer (use --yes in scripts).")
    assert "Aborted" not in result.output
    assert rows(db_path, "SELECT count(*) FROM study_sessions") == [(0,)]


def test_learn_an_unknown_lesson(cli_run) -> None:
    cli_run("init")
    result = cli_run("learn", "transformer-9")
    assert result.exit_code == 2
    assert result.stderr == "Error: no lesson 'transformer-9'; did you mean transformer-2?\n"
    assert result.stdout == ""
    concept = cli_run("learn", "attention-mechanism")
    assert concept.stderr == (
        "Error: no lesson 'attention-mechanism'; did you mean attention-mechanism-1?\n"
    )


def test_learn_a_locked_lesson_is_refused_unless_forced(cli_run, db_path: Path) -> None:
    cli_run("init")
    refused = cli_run("learn", "gpt-architecture-1", "--yes")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: gpt-architecture-1 is locked: it needs multi-head-attention@2 (you have depth 0), "
        "transformer@1 (you have depth 0); read it with `tracker lesson show gpt-architecture-1`, "
        "or study it anyway with `tracker learn gpt-architecture-1 --force`\n"
    )
    assert refused.stdout == ""
    assert rows(db_path, "SELECT count(*) FROM study_sessions") == [(0,)]
    forced = cli_run("learn", "gpt-architecture-1", "--yes", "--force")
    assert forced.exit_code == 0
    assert rows(db_path, "SELECT lesson_id FROM progress") == [("gpt-architecture-1",)]


def test_learn_an_exercise_lesson_points_to_submit(cli_run, db_path: Path) -> None:
    result = cli_run("learn", "attention-mechanism-1")
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith(
        "attention-mechanism-1 is passed by its exercise: "
        "`tracker lesson exercise attention-mechanism-1 -o attention-mechanism-1.py`, "
        "then `tracker submit attention-mechanism-1 attention-mechanism-1.py`."
    )
    assert "Record this study session" not in result.stdout
    assert rows(db_path, "SELECT count(*) FROM study_sessions") == [(0,)]


def test_learn_prints_the_markdown_source_on_request(cli_run) -> None:
    result = cli_run("learn", "transformer-1", "--markdown", input="n\n")
    assert result.exit_code == 0
    assert result.stdout.startswith("# ")
    assert "\n## Check your understanding\n\n1. " in result.stdout


def test_learn_refuses_exercise_lessons_in_the_core(store) -> None:  # noqa: ANN001
    from tracker.errors import LessonLocked, LessonNotFound, UsageError
    from tracker.usecases.checkin import learn

    now = parse_instant("2025-11-10T09:00", store.clock.tz)
    common = {"learner_id": store.learner_id, "now": now}
    with pytest.raises(UsageError, match="passed by its exercise"):
        learn(store, lesson_id="multi-head-attention-2", **common)
    with pytest.raises(LessonLocked) as locked:
        learn(store, lesson_id="alignment-1", **common)
    assert locked.value.exit_code == 1
    assert str(locked.value) == (
        "alignment-1 is locked: it needs rlhf@1 (you have depth 0); read it with "
        "`tracker lesson show alignment-1`, or study it anyway with "
        "`tracker learn alignment-1 --force`"
    )
    with pytest.raises(LessonNotFound):
        learn(store, lesson_id="nope-1", **common)
