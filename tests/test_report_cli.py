"""`tracker report` and `tracker export`: snapshots of a fixed history, data read back, errors."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from report_support import NOW, ZONE, assert_snapshot, at, history_store

from tracker.reports.document import build_report
from tracker.reports.post import NoStudyOnDay, build_post


@pytest.fixture
def history(tracker_env: Path):  # noqa: ANN201 - a tracker.store.Store
    yield from history_store(tracker_env)


def report_doc(store, lang: str = "en", day: date | None = None):  # noqa: ANN001, ANN201
    return build_report(
        store,
        learner_id=store.learner_id,
        now=at(NOW, store),
        clock=store.clock,
        lang=lang,
        day=day,
        sessions_per_week=3,
    )


def rows(store, sql: str) -> list[tuple]:  # noqa: ANN001
    with sqlite3.connect(store.engine.url.database) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_markdown_report_snapshot(history, lang: str) -> None:  # noqa: ANN001
    from tracker.render.report_md import render_markdown

    assert_snapshot(f"report-{lang}.md", render_markdown(report_doc(history, lang)))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_post_snapshot(history, lang: str) -> None:  # noqa: ANN001
    from tracker.render.post import render_post

    post = build_post(
        history,
        learner_id=history.learner_id,
        now=at(NOW, history),
        clock=history.clock,
        lang=lang,
        sessions_per_week=3,
    )
    data = render_post(post)
    assert_snapshot(f"post-2025-11-14-{lang}.md", data)
    text = data.decode("utf-8")
    assert text.startswith("---\ncategories: learning\ndate: '2025-11-14'\nlayout: single\n")
    assert "\ntitle: 'Flash attention'\n---\n# AI Learning Journey - 2025-11-14\n" in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    if lang == "ko":
        assert headings[0] == "## 🎯 오늘의 초점" and "## 🌱 성장 지표" in headings
    else:
        assert headings[0] == "## 🎯 Today's Focus" and "## 🌱 Growth Indicators" in headings
    assert len(headings) == 7  # focus, why, core, connections, check, next steps, growth


def test_report_figures_match_the_database(history) -> None:  # noqa: ANN001
    doc = report_doc(history).as_dict()
    sessions = rows(history, "SELECT count(*) FROM study_sessions")[0][0]
    assert doc["sessions_completed"] == sessions == 6
    assert doc["journey_started"] == "2025-11-03"
    # Active days: 3, 4, 5, 6 (incl. 01:30 on the 7th), then 10 and 14.
    assert doc["streak"] == {
        "current": 1,
        "best": 4,
        "active_today": True,
        "last_active": "2025-11-14",
    }
    assert doc["current_depth_level"] == {"depth": 3, "label": "Advanced", "level": "advanced"}
    architecture = doc["categories"][0]
    assert (architecture["name"], architecture["total"], architecture["completed"]) == (
        "Architecture",
        7,
        1,
    )
    # Flash attention's target depth is 3 (mastered); transformer's is 2 (depth 1: in progress).
    assert [c["id"] for c in architecture["completed_concepts"]] == ["flash-attention"]
    assert [c["id"] for c in architecture["in_progress_concepts"]] == [
        "attention-mechanism",
        "transformer",
        "positional-encoding",
        "multi-head-attention",
    ]
    logs = rows(history, "SELECT count(*) FROM review_logs")[0][0]
    assert doc["reviews"]["total_reviews"] == logs > 0
    due = rows(
        history,
        "SELECT count(*) FROM review_cards WHERE suspended = 0 AND due < '2025-11-15 03:00:00'",
    )[0][0]
    assert doc["reviews"]["due_today"] == due
    assert doc["reviews"]["forecast"]["days"][0]["date"] == "2025-11-14"
    assert len(doc["reviews"]["forecast"]["days"]) == 30


def test_report_json_has_the_architecture_keys(history, cli_run, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", NOW)
    result = cli_run("report", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in (
        "generated_at",
        "journey_started",
        "sessions_completed",
        "streak_days",
        "current_depth_level",
        "categories",
        "velocity",
        "milestones",
        "reviews",
    ):
        assert key in doc
    assert set(doc["current_depth_level"]) >= {"depth", "label"}
    assert set(doc["categories"][0]) >= {
        "name",
        "total",
        "completed",
        "in_progress",
        "percent",
        "completed_concepts",
        "in_progress_concepts",
    }
    assert set(doc["velocity"]) >= {"this_week", "this_month", "trend"}
    assert set(doc["milestones"]) >= {"achieved", "next"}
    assert all(set(m) >= {"name", "remaining"} for m in doc["milestones"]["next"])
    assert set(doc["reviews"]) >= {"due_today", "true_retention"}
    assert doc["generated_at"] == "2025-11-14T19:00:00+00:00"


def test_korean_json_labels_and_utf8_bytes(history, cli_run, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", NOW)
    result = cli_run("report", "--format", "json", "--lang", "ko")
    doc = json.loads(result.stdout_bytes.decode("utf-8"))
    assert doc["current_depth_level"]["label"] == "고급"
    assert [m["name"] for m in doc["milestones"]["achieved"]][:3] == [
        "첫 depth 2 진입",
        "주 3회 학습 달성",
        "5개 개념 학습",
    ]


def test_csv_sessions_and_reviews(history, cli_run, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", NOW)
    result = cli_run("report", "--format", "csv")
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == ["date", "concept", "depth", "lesson", "kind", "completed_at"]
    assert [row[:5] for row in table[1:]] == [
        ["2025-11-03", "transformer", "1", "transformer-1", "study"],
        ["2025-11-03", "attention-mechanism", "1", "attention-mechanism-1", "submission"],
        ["2025-11-05", "multi-head-attention", "2", "multi-head-attention-2", "submission"],
        ["2025-11-06", "positional-encoding", "1", "positional-encoding-1", "study"],
        ["2025-11-06", "scaling-laws", "1", "scaling-laws-1", "study"],
        ["2025-11-14", "flash-attention", "3", "flash-attention-3", "submission"],
    ]
    reviews = list(
        csv.DictReader(
            io.StringIO(cli_run("report", "--format", "csv", "--what", "reviews").stdout)
        )
    )
    logged = rows(history, "SELECT card_id, rating FROM review_logs ORDER BY reviewed_at, card_id")
    assert [(int(r["card"]), int(r["rating"])) for r in reviews] == logged
    assert {r["rating_name"] for r in reviews} == {"good", "again"}
    assert all(r["concept"] and r["lesson"] and r["depth"] for r in reviews)


def test_output_file_and_a_past_date(history, cli_run, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", NOW)
    target = tmp_path / "report.md"
    result = cli_run("report", "--date", "2025-11-06", "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.startswith(f"Wrote {target} (")
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Learning report: 2025-11-06\n")
    assert "- **Sessions completed**: 5\n" in text  # the 14th's session is not there yet
    assert "The forecast is shown for today only." in text
    assert not list(tmp_path.glob(".report.md.tmp-*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--what", "reviews"], "Error: --what applies to --format csv only"),
        (["report", "--date", "14/11/2025"], "'14/11/2025' is not a date: use YYYY-MM-DD"),
        (["report", "--format", "pdf"], "Invalid value for '--format'"),
        (
            ["report", "--date", "2025-11-15"],
            "Error: --date 2025-11-15 is after today (2025-11-14): a report covers what has "
            "happened",
        ),
        (
            ["export", "post", "--date", "2025-11-12"],
            "Error: no study session on 2025-11-12; the last study day before it is 2025-11-06: "
            "tracker export post --date 2025-11-06",
        ),
        (["export", "ics", "--days", "0"], "Invalid value for '--days'"),
        (["export", "post", "--lang", "fr"], "Invalid value for '--lang'"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(history, cli_run, monkeypatch, args, message) -> None:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", NOW)
    result = cli_run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_unwritable_output_is_exit_2(history, cli_run, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", NOW)
    missing = tmp_path / "no-such-dir" / "r.html"
    result = cli_run("report", "--format", "html", "-o", str(missing))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: cannot write {missing}: No such file or directory"


def test_post_before_any_study(cli_run, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", "2025-11-14T10:00")
    result = cli_run("export", "post")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith(
        "Error: no study session on 2025-11-14; nothing is recorded before it: "
        "study a lesson with `tracker learn` first"
    )


def test_post_of_a_past_day_plans_from_that_day(history) -> None:  # noqa: ANN001
    post = build_post(
        history,
        learner_id=history.learner_id,
        now=at(NOW, history),
        clock=history.clock,
        day=date(2025, 11, 6),
    )
    # Two sessions that learner-day (01:30 on the 7th counts for the 6th): the last is the focus.
    assert post.focus.lesson == "scaling-laws-1"
    assert [x.lesson for x in post.also_today] == ["positional-encoding-1"]
    assert post.report.sessions_completed == 5
    assert post.plan.week[0].date == date(2025, 11, 7)
    planned = [p.lesson for p in (*post.plan.week, *post.plan.month, *post.plan.quarter)]
    assert "flash-attention-3" in planned  # passed on the 14th, after that day
    assert post.earlier[0].concept == "transformer" and post.earlier[0].depth == 1
    assert [(c.date, c.concept, c.relation) for c in post.plan.connections] == [
        (date(2025, 11, 3), "transformer", "prerequisite")
    ]
    with pytest.raises(NoStudyOnDay):
        build_post(
            history,
            learner_id=history.learner_id,
            now=at(NOW, history),
            clock=history.clock,
            day=date(2025, 11, 4),
        )


# --- iCalendar ------------------------------------------------------------------------------


def export_ics(cli_run, monkeypatch, now: str, *extra: str):  # noqa: ANN001, ANN201
    from icalendar import Calendar

    monkeypatch.setenv("TRACKER_NOW", now)
    result = cli_run("export", "ics", *extra)
    assert result.exit_code == 0, result.output
    return Calendar.from_ical(result.stdout_bytes)


def test_ics_parses_back_with_alarms_timezone_and_stable_uids(
    history, cli_run, monkeypatch
) -> None:  # noqa: ANN001
    from zoneinfo import ZoneInfo

    calendar = export_ics(cli_run, monkeypatch, NOW)
    assert str(calendar["version"]) == "2.0" and str(calendar["method"]) == "PUBLISH"
    zones = calendar.walk("VTIMEZONE")
    assert [str(z["tzid"]) for z in zones] == [ZONE]
    events = calendar.walk("VEVENT")
    reviews = [e for e in events if str(e["uid"]).startswith("review-")]
    lessons = [e for e in events if str(e["uid"]).startswith("lesson-")]
    assert reviews and lessons and len(reviews) + len(lessons) == len(events)
    berlin = ZoneInfo(ZONE)
    for event in events:
        start = event.decoded("dtstart")
        assert start.tzinfo is not None and str(start.tzinfo) == ZONE
        alarms = event.walk("VALARM")
        assert len(alarms) == 1 and str(alarms[0]["action"]) == "DISPLAY"
        fires = start + alarms[0].decoded("trigger")
        assert fires.astimezone(berlin).time().isoformat() == "08:30:00"  # reminder_time
        assert "http" not in str(event["description"])
    first = reviews[0]
    assert first.decoded("dtstart").date() == date(2025, 11, 14)
    assert "tracker review" in str(first["description"])
    assert int(rows(history, "SELECT count(*) FROM review_cards WHERE suspended = 0")[0][0]) >= int(
        str(first["summary"]).split()[1]
    )
    # Exported again a day later: the same UIDs for the same days and lessons, a higher SEQUENCE.
    later = export_ics(cli_run, monkeypatch, "2025-11-15T07:00")
    before = {str(e["uid"]): e for e in events}
    after = {str(e["uid"]): e for e in later.walk("VEVENT")}
    common = set(before) & set(after)
    assert len(common) >= len(lessons)
    assert all(int(after[u]["sequence"]) > int(before[u]["sequence"]) for u in common)
    assert all(
        before[u].decoded("dtstart").date() == after[u].decoded("dtstart").date()
        for u in common
        if u.startswith("review-")
    )


def test_ics_across_a_dst_change_keeps_the_local_time(history, cli_run, monkeypatch) -> None:  # noqa: ANN001
    calendar = export_ics(cli_run, monkeypatch, "2026-03-20T09:00", "--days", "30")
    zone = calendar.walk("VTIMEZONE")[0]
    assert {c.name for c in zone.subcomponents} >= {"STANDARD", "DAYLIGHT"}
    starts = [e.decoded("dtstart") for e in calendar.walk("VEVENT")]
    assert min(s.date() for s in starts) < date(2026, 3, 29) < max(s.date() for s in starts)
    assert {s.time().isoformat() for s in starts} <= {"08:30:00", "08:45:00"}
    offsets = {s.utcoffset() for s in starts}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}


# --- Anki ---------------------------------------------------------------------------------


def read_deck(path: Path) -> list[tuple[str, str, str]]:
    with zipfile.ZipFile(path) as archive:
        assert "collection.anki2" in archive.namelist()
        collection = path.with_suffix(".anki2")
        collection.write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(collection) as conn:
        return conn.execute("SELECT guid, tags, flds FROM notes ORDER BY guid").fetchall()


def test_anki_deck_holds_one_note_per_question_card(
    history, cli_run, monkeypatch, tmp_path
) -> None:  # noqa: ANN001
    monkeypatch.setenv("TRACKER_NOW", NOW)
    target = tmp_path / "deck.apkg"
    result = cli_run("export", "anki", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == "24 notes in the deck"
    notes = read_deck(target)
    cards = rows(
        history,
        "SELECT c.lesson_id, c.concept_id, l.depth FROM review_cards c JOIN lessons l "
        "ON l.id = c.lesson_id WHERE c.kind = 'question' AND c.suspended = 0",
    )
    assert len(notes) == len(cards) == 24
    tags = {tuple(sorted(t.split())) for _, t, _ in notes}
    expected = {
        tuple(sorted(("tracker", concept, f"depth-{depth}"))) for _, concept, depth in cards
    }
    assert tags == expected
    prompts = {fields.split("\x1f")[0] for _, _, fields in notes}
    assert any("d_k" in p for p in prompts)  # multi-head-attention-2's first question
    # Exported again later: the same GUIDs, so Anki updates the notes it already has.
    monkeypatch.setenv("TRACKER_NOW", "2025-11-20T09:00")
    again = tmp_path / "again.apkg"
    assert cli_run("export", "anki", "-o", str(again)).exit_code == 0
    assert [g for g, _, _ in read_deck(again)] == [g for g, _, _ in notes]


def test_every_new_command_has_help(cli_run) -> None:  # noqa: ANN001
    for args in (["report"], ["export"], ["export", "post"], ["export", "ics"], ["export", "anki"]):
        result = cli_run(*args, "--help")
        assert result.exit_code == 0 and "Example:" in result.output


def test_report_does_not_load_what_it_does_not_need(history, tmp_path: Path) -> None:  # noqa: ANN001
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tracker.cli import cli\n"
        "try:\n"
        "    cli(['report', '--format', 'md'], prog_name='tracker')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('jinja2', 'icalendar', 'genanki', 'torch', 'alembic', "
        "'apscheduler', 'fsrs') if m in sys.modules), file=sys.stderr)\n"
    )
    env = {**os.environ, "TRACKER_NOW": NOW}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.stderr.strip().splitlines()[-1] == "[]"
    assert datetime  # imported for the annotations of helpers above


def test_post_of_an_imported_day_without_a_lesson(history) -> None:  # noqa: ANN001
    from tracker.db.models import StudySession
    from tracker.render.post import render_post

    when = at("2025-11-12T19:00", history)
    with history.write() as session:
        session.add(
            StudySession(
                learner_id=history.learner_id,
                lesson_id=None,
                concept_id="rlhf",
                depth=1,
                kind="import",
                completed_at=when,
                local_date=date(2025, 11, 12),
                source="2025-11-12-rlhf.md",
            )
        )
    post = build_post(
        history,
        learner_id=history.learner_id,
        now=at(NOW, history),
        clock=history.clock,
        day=date(2025, 11, 12),
    )
    text = render_post(post).decode("utf-8")
    assert post.focus.lesson is None and post.focus.concept_title == "RLHF"
    assert "\ntitle: 'RLHF'\n" in text and "**RLHF** (Depth 1)" in text
    assert "## 🧩" not in text and "## 🧪" not in text  # no lesson text, no questions
    assert "**Sessions Completed**: 6\n" in text  # five before it, this one
