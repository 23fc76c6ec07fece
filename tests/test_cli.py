"""The CLI skeleton: JSON shapes, exit codes, help texts, and what stays unimported."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tracker.cli import cli


def _table_counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_concepts_json_lists_all_sixteen_not_started(cli_run, db_path: Path) -> None:
    result = cli_run("concepts", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 16
    assert {r["status"] for r in rows} == {"not-started"}
    assert set(rows[0]) >= {"id", "title", "category", "depth", "target_depth", "status"}
    assert {r["category"] for r in rows} == {"architecture", "model", "training", "safety"}
    assert "created a new tracker database" in result.stderr
    counts = _table_counts(db_path)
    again = cli_run("concepts", "--json")
    assert again.stdout == result.stdout
    assert again.stderr == ""
    assert _table_counts(db_path) == counts


def test_lessons_json_marks_what_is_available(cli_run) -> None:
    rows = {r["id"]: r for r in json.loads(cli_run("lessons", "--json").stdout)}
    assert rows["attention-mechanism-1"]["status"] == "available"
    assert rows["transformer-1"]["status"] == "available"
    assert rows["multi-head-attention-2"]["status"] == "locked"
    assert rows["multi-head-attention-2"]["requires"] == [
        {"concept": "attention-mechanism", "depth": 1}
    ]


def test_lesson_show_and_unknown_lesson(cli_run) -> None:
    shown = cli_run("lesson", "show", "transformer-1")
    assert shown.exit_code == 0
    assert shown.stdout.startswith("# ")
    assert "## Check your understanding" in shown.stdout
    as_json = json.loads(cli_run("lesson", "show", "transformer-1", "--json").stdout)
    assert as_json["concept"] == "transformer" and len(as_json["questions"]) >= 3
    missing = cli_run("lesson", "show", "transformer-9")
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "Error: no lesson 'transformer-9'; did you mean transformer-2?"
    nowhere = cli_run("lesson", "show", "quantum-chromodynamics-9")
    assert nowhere.stderr.strip() == (
        "Error: no lesson 'quantum-chromodynamics-9'; see `tracker lessons`"
    )


def test_history_starts_empty_and_lists_sessions(cli_run, store) -> None:
    assert json.loads(cli_run("history", "--json").stdout) == []
    from tracker.db.models import Lesson
    from tracker.progress import record_passed_lesson

    now = store.now()
    with store.write() as session:
        record_passed_lesson(
            session,
            learner_id=store.learner_id,
            lesson=session.get(Lesson, "transformer-1"),
            kind="study",
            completed_at=now,
            local_date=store.clock.local_day(now),
        )
    events = json.loads(cli_run("history", "--json").stdout)
    assert [(e["kind"], e["concept"], e["depth"], e["lesson"]) for e in events] == [
        ("study", "transformer", 1, "transformer-1")
    ]
    assert events[0]["date"] == store.clock.local_day(now).isoformat()
    concepts = {r["id"]: r for r in json.loads(cli_run("concepts", "--json").stdout)}
    assert (
        concepts["transformer"]["status"] == "in-progress" and concepts["transformer"]["depth"] == 1
    )


def test_db_check_backup_upgrade(cli_run, db_path: Path, tmp_path: Path) -> None:
    missing = cli_run("db", "check")
    assert missing.exit_code == 1 and "run `tracker init`" in missing.stdout
    assert cli_run("init").exit_code == 0
    check = cli_run("db", "check", "--json")
    assert check.exit_code == 0 and json.loads(check.stdout)["ok"] is True
    from tracker.db.schema import HEAD_REVISION

    assert cli_run("db", "upgrade").stdout.strip() == f"schema already at head ({HEAD_REVISION})"
    target = tmp_path / "copy.db"
    backup = cli_run("db", "backup", str(target))
    assert backup.exit_code == 0
    assert _table_counts(target) == _table_counts(db_path)
    again = cli_run("db", "backup", str(target))
    assert again.exit_code == 2 and "already exists" in again.stderr
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            "INSERT INTO progress (learner_id, concept_id, lesson_id, depth, achieved_at) "
            "VALUES (42, 'nope', 'nope-1', 1, '2025-01-01')"
        )
    broken = cli_run("db", "check")
    assert broken.exit_code == 1
    assert "problem: 3 references point at missing rows (foreign keys)" in broken.stdout


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):  # noqa: ANN202
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in _all_commands(cli)], ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...], cli_run) -> None:
    result = cli_run(*path, "--help")
    assert result.exit_code == 0
    command = dict(_all_commands(cli))[path]
    assert command.help and command.help.strip(), f"{' '.join(path)} has no help text"


def test_daily_commands_keep_heavy_modules_unimported(db_path: Path, cli_run) -> None:
    cli_run("init")
    code = (
        "import sys\n"
        "from tracker.cli import cli\n"
        "try:\n"
        "    cli(['concepts', '--json'], standalone_mode=False)\n"
        "finally:\n"
        "    names = ('torch', 'alembic', 'apscheduler', 'fsrs', 'rich', 'numpy', 'ftfy',\n"
        "             'tracker.importers.korean')\n"
        "    heavy = sorted(m for m in names if m in sys.modules)\n"
        "    print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in result.stderr


def test_python_dash_m_tracker(db_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "concepts", "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 16


def test_shell_completion_knows_commands_and_lesson_ids() -> None:
    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
            "_TRACKER_COMPLETE": "bash_complete",
        }
        done = subprocess.run(
            [sys.executable, "-m", "tracker"], env=env, capture_output=True, text=True
        )
        return [line.split(",", 1)[1] for line in done.stdout.splitlines()]

    assert complete("tracker chec") == ["checkin"]
    assert complete("tracker submit flash") == ["flash-attention-1", "flash-attention-3"]
    assert "transformer-1" in complete("tracker learn trans")
