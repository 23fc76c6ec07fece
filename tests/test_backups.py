"""Automatic backups: when they are taken, how they are thinned, listed and restored.

The day comes from the clock (``TRACKER_NOW`` here), never the wall clock;
faults are made, not imagined: a folder that cannot be created, a damaged
file, a file that is not ours, a schema from the future.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.db.backups import backup_folder, list_backups
from tracker.db.thinning import Limits, obsolete_backups

# --- thinning: a pure function of (today, backups) ----------------------------------------------


@dataclass(frozen=True)
class Fake:
    taken_at: datetime

    @property
    def day(self) -> date:
        return self.taken_at.date()


TODAY = date(2026, 12, 2)


def _at(day: date, hour: int = 12) -> Fake:
    return Fake(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))


def test_a_backup_every_day_for_400_days_keeps_2_recent_12_daily_10_weekly_9_monthly() -> None:
    backups = [_at(TODAY - timedelta(days=n)) for n in range(400)]
    obsolete = set(obsolete_backups(TODAY, backups))
    kept = sorted((b for b in backups if b not in obsolete), key=lambda b: b.taken_at)
    assert len(kept) == 2 + 12 + 10 + 9
    days = [b.day for b in reversed(kept)]
    assert days[:14] == [TODAY - timedelta(days=n) for n in range(14)]  # recent + 12 daily
    weekly = days[14:24]
    assert len({d.toordinal() // 7 for d in weekly}) == 10  # one per week
    monthly = days[24:]
    assert len({(d.year, d.month) for d in monthly}) == 9  # one per month


def test_every_backup_from_yesterday_on_is_kept_and_each_older_day_keeps_its_newest() -> None:
    backups = [_at(TODAY, h) for h in (8, 9, 10)] + [_at(TODAY - timedelta(days=1), 6)]
    backups += [_at(TODAY - timedelta(days=3), h) for h in (7, 19)]
    obsolete = obsolete_backups(TODAY, backups)
    assert obsolete == [_at(TODAY - timedelta(days=3), 7)]


def test_no_limits_left_means_only_the_recent_ones_stay() -> None:
    backups = [_at(TODAY - timedelta(days=n)) for n in range(5)]
    obsolete = obsolete_backups(TODAY, backups, Limits(0, 0, 0))
    assert obsolete == backups[2:]


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(instants, max_size=120, unique=True), st.dates(date(2024, 1, 1), date(2027, 1, 1)))
def test_thinning_properties(stamps: list[datetime], today: date) -> None:
    backups = [Fake(t) for t in stamps]
    obsolete = obsolete_backups(today, backups)
    kept = [b for b in backups if b not in obsolete]
    assert len(set(obsolete)) == len(obsolete) and set(obsolete) <= set(backups)
    # recent ones always stay, and so does the newest of all
    assert all(b in kept for b in backups if b.day >= today - timedelta(days=1))
    if backups:
        assert max(backups, key=lambda b: b.taken_at) in kept
    # older than yesterday: at most one a day, and at most 12 + 10 + 9 of them
    older = [b for b in kept if b.day < today - timedelta(days=1)]
    assert len({b.day for b in older}) == len(older) <= 12 + 10 + 9
    # thinning what it kept deletes nothing more (applied after every backup, it is stable)
    assert obsolete_backups(today, kept) == []


# --- the daily backup on the first write of a learner-day --------------------------------------


def _names(db_path: Path) -> list[str]:
    return [b.path.name for b in list_backups(db_path)]


def test_the_first_write_of_each_learner_day_backs_up_once(
    cli_run, db_path: Path, tracker_env: Path
) -> None:
    env = {"TRACKER_NOW": "2026-12-01T10:00:00+00:00"}
    assert cli_run("checkin", env=env).exit_code == 0
    assert _names(db_path) == []  # a database made by this command has nothing to keep yet
    env = {"TRACKER_NOW": "2026-12-02T09:00:00+00:00"}
    first = cli_run("checkin", env=env)
    assert first.exit_code == 0 and first.stderr == ""
    assert _names(db_path) == ["tracker.2026-12-02T090000Z.daily.db"]
    # later that day, and at 03:00 the next morning (before the 04:00 day boundary): no more
    for now in ("2026-12-02T18:00:00+00:00", "2026-12-03T03:00:00+00:00"):
        assert cli_run("checkin", env={"TRACKER_NOW": now}).exit_code == 0
    assert _names(db_path) == ["tracker.2026-12-02T090000Z.daily.db"]
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-03T05:00:00+00:00"}).exit_code == 0
    assert _names(db_path) == [
        "tracker.2026-12-02T090000Z.daily.db",
        "tracker.2026-12-03T050000Z.daily.db",
    ]
    # the copy is the state before the day's first write: the 2026-12-02 check-in is not in it
    with sqlite3.connect(backup_folder(db_path) / "tracker.2026-12-02T090000Z.daily.db") as conn:
        days = [r[0] for r in conn.execute("SELECT local_date FROM checkins ORDER BY 1")]
    assert days == ["2026-12-01"]


def test_a_read_never_backs_up(cli_run, db_path: Path) -> None:
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-01T10:00:00+00:00"}).exit_code == 0
    for command in (("status",), ("due",), ("concepts",), ("db", "check")):
        result = cli_run(*command, env={"TRACKER_NOW": "2026-12-05T10:00:00+00:00"})
        assert result.exit_code == 0, result.output
    assert _names(db_path) == []


def test_a_backup_that_fails_is_a_warning_and_the_write_happens(
    cli_run, db_path: Path, tracker_env: Path
) -> None:
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-01T10:00:00+00:00"}).exit_code == 0
    (tracker_env / "backups").write_text("a file where the folder should be")
    result = cli_run("checkin", "--json", env={"TRACKER_NOW": "2026-12-02T10:00:00+00:00"})
    assert result.exit_code == 0
    assert result.stderr == (
        f"warning: the automatic backup failed: {tracker_env / 'backups'}: File exists\n"
    )
    assert json.loads(result.stdout)["date"] == "2026-12-02"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM checkins").fetchone() == (2,)


def test_thinning_runs_after_each_new_backup(cli_run, db_path: Path, tracker_env: Path) -> None:
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-01T10:00:00+00:00"}).exit_code == 0
    folder = tracker_env / "backups"
    folder.mkdir()
    start = date(2026, 12, 1)
    for n in range(60):  # two months of daily backups, and a file that is not ours
        (folder / f"tracker.{start - timedelta(days=n):%Y-%m-%d}T120000Z.daily.db").touch()
    (folder / "notes.txt").touch()
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-02T10:00:00+00:00"}).exit_code == 0
    listed = list_backups(db_path)
    assert obsolete_backups(date(2026, 12, 2), listed) == []
    assert len(listed) == 1 + 1 + 12 + 7  # today, yesterday, 12 daily, the weeks left in 60 days
    assert (folder / "notes.txt").exists()


@pytest.mark.slow
def test_eight_processes_on_the_first_write_of_a_day_leave_one_backup(
    cli_run, db_path: Path, tracker_env: Path
) -> None:
    import os

    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-01T10:00:00+00:00"}).exit_code == 0
    env = {**os.environ, "TRACKER_NOW": "2026-12-02T10:00:00+00:00"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tracker", "checkin"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 8 and errors == [""] * 8
    assert _names(db_path) == ["tracker.2026-12-02T100000Z.daily.db"]


def test_an_upgrade_backup_goes_to_the_folder_and_counts_as_the_days_backup(
    cli_run, db_path: Path
) -> None:
    from tracker.db.engine import resolve_location
    from tracker.db.schema import HEAD_REVISION, upgrade_schema

    upgrade_schema(resolve_location(str(db_path)), None, target="0003", now=datetime.now(UTC))
    result = cli_run("checkin", env={"TRACKER_NOW": "2026-12-02T10:00:00+00:00"})
    assert result.exit_code == 0
    backup = backup_folder(db_path) / "tracker.2026-12-02T100000Z.schema-0003.db"
    assert result.stderr == (
        f"upgraded database schema 0003 -> {HEAD_REVISION}; "
        f"the previous file was copied to {backup}\n"
    )
    assert _names(db_path) == [backup.name]


# --- tracker db backups ----------------------------------------------------------------------


def test_db_backups_lists_date_size_and_path(cli_run, db_path: Path, tracker_env: Path) -> None:
    assert cli_run("db", "backups").stdout == f"no backups in {tracker_env / 'backups'} yet\n"
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-01T10:00:00+00:00"}).exit_code == 0
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-02T10:00:00+00:00"}).exit_code == 0
    path = backup_folder(db_path) / "tracker.2026-12-02T100000Z.daily.db"
    listed = json.loads(cli_run("db", "backups", "--json").stdout)
    assert listed == [
        {
            "date": "2026-12-02",
            "taken_at": "2026-12-02T10:00:00+00:00",
            "kind": "daily",
            "size": path.stat().st_size,
            "path": str(path),
        }
    ]
    text = cli_run("db", "backups").stdout
    size = f"{path.stat().st_size / 1024:.1f} KiB"
    assert text == f"2026-12-02  10:00:00Z  {size:>9}  daily            {path}\n"


def test_the_listed_date_is_the_learner_day(cli_run, db_path: Path, tracker_env: Path) -> None:
    (tracker_env / "config.toml").write_text('timezone = "Asia/Seoul"\n', encoding="utf-8")
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-01T10:00:00+09:00"}).exit_code == 0
    # 02:30 in Seoul on 12-03 is still the learner-day 12-02 (the day starts at 04:00)
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-03T02:30:00+09:00"}).exit_code == 0
    (entry,) = json.loads(cli_run("db", "backups", "--json").stdout)
    assert (entry["date"], entry["taken_at"]) == ("2026-12-02", "2026-12-02T17:30:00+00:00")


def test_postgresql_has_no_file_backups(cli_run) -> None:
    result = cli_run("--db", "postgresql://nobody@127.0.0.1:1/none", "db", "backups")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: automatic backups: tracker keeps file backups of SQLite only; use pg_dump\n"
    )


# --- tracker db restore ----------------------------------------------------------------------


def _checkin_days(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT local_date FROM checkins ORDER BY 1")]


def test_restore_puts_a_backup_back_after_saving_the_current_state(cli_run, db_path: Path) -> None:
    for day in ("2026-12-01", "2026-12-02", "2026-12-03"):
        assert cli_run("checkin", env={"TRACKER_NOW": f"{day}T10:00:00+00:00"}).exit_code == 0
    backup = backup_folder(db_path) / "tracker.2026-12-02T100000Z.daily.db"
    result = cli_run("db", "restore", str(backup), env={"TRACKER_NOW": "2026-12-03T11:00:00Z"})
    saved = backup_folder(db_path) / "tracker.2026-12-03T110000Z.before-restore.db"
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"restored {db_path} from {backup}; the previous state was saved to {saved}\n"
    )
    assert _checkin_days(db_path) == ["2026-12-01"]
    assert _checkin_days(saved) == ["2026-12-01", "2026-12-02", "2026-12-03"]
    check = cli_run("db", "check")
    assert check.exit_code == 0 and "journal mode: wal" in check.stdout
    # and the restored database works on: today's check-in is recorded again
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-03T12:00:00+00:00"}).exit_code == 0
    assert _checkin_days(db_path) == ["2026-12-01", "2026-12-03"]


def _make_text(path: Path) -> None:
    path.write_text("hello", encoding="utf-8")


def _make_not_ours(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")


def _make_newer(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")


def _make_damaged(path: Path) -> None:
    _make_not_ours(path)
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO notes VALUES (?)", [("x" * 500,)] * 200)
    data = bytearray(path.read_bytes())
    data[4096 : 4096 * 3] = b"\xff" * 8192  # the table's pages, not the header
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (None, "Error: {path}: no file to restore from"),
        (_make_text, "Error: {path} is not a SQLite database, so not a tracker backup"),
        (_make_not_ours, "Error: {path} is a SQLite database but not a tracker database"),
        (_make_newer, "Error: {path} has schema 9999, newer than this tracker knows ({head})"),
        (_make_damaged, "Error: {path} is damaged and cannot be restored ("),
    ],
    ids=["missing", "not-sqlite", "not-tracker", "newer", "damaged"],
)
def test_restore_refuses_what_is_not_a_tracker_backup_and_changes_nothing(
    make, message: str, cli_run, db_path: Path, tmp_path: Path
) -> None:
    from tracker.db.schema import HEAD_REVISION

    assert cli_run("checkin").exit_code == 0
    before = db_path.read_bytes()
    path = tmp_path / "candidate.db"
    if make is not None:
        make(path)
    result = cli_run("db", "restore", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(message.format(path=path, head=HEAD_REVISION))
    assert len(result.stderr.splitlines()) == 1
    assert db_path.read_bytes() == before
    assert not backup_folder(db_path).exists()


def test_a_damaged_database_can_be_restored_and_its_bytes_are_kept(cli_run, db_path: Path) -> None:
    for day in ("2026-12-01", "2026-12-02"):
        assert cli_run("checkin", env={"TRACKER_NOW": f"{day}T10:00:00+00:00"}).exit_code == 0
    backup = backup_folder(db_path) / "tracker.2026-12-02T100000Z.daily.db"
    damaged = b"SQLite format 3\x00" + b"\x00" * 84 + b"\xff" * 8000
    db_path.write_bytes(damaged)
    for sidecar in ("-wal", "-shm"):
        Path(f"{db_path}{sidecar}").unlink(missing_ok=True)
    result = cli_run("db", "restore", str(backup), env={"TRACKER_NOW": "2026-12-02T11:00:00Z"})
    kept = backup_folder(db_path) / "tracker.2026-12-02T110000Z.damaged.db"
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"the previous state was saved to {kept}\n")
    assert kept.read_bytes() == damaged
    assert _checkin_days(db_path) == ["2026-12-01"]


def test_restoring_the_database_onto_itself_is_refused(cli_run, db_path: Path) -> None:
    assert cli_run("checkin").exit_code == 0
    result = cli_run("db", "restore", str(db_path))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {db_path} is the database itself; give a backup of it\n",
    )


def test_a_backup_killed_half_way_leaves_no_backup_and_the_next_one_cleans_up(
    cli_run, db_path: Path, tracker_env: Path
) -> None:
    import os

    assert cli_run("checkin", env={"TRACKER_NOW": "2026-12-01T10:00:00+00:00"}).exit_code == 0
    before = db_path.read_bytes()
    env = {**os.environ, "TRACKER_NOW": "2026-12-02T10:00:00+00:00"}
    killed = subprocess.run(
        [sys.executable, "-m", "tracker", "checkin"],
        env={**env, "TRACKER_FAULTS": "backup-copied"},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == 97
    folder = backup_folder(db_path)
    assert [p.name.endswith(".partial") for p in folder.iterdir() if p.name != ".lock"] == [True]
    assert _names(db_path) == [] and db_path.read_bytes() == before
    again = cli_run("checkin", env={"TRACKER_NOW": "2026-12-02T11:00:00+00:00"})
    assert (again.exit_code, again.stderr) == (0, "")
    assert sorted(p.name for p in folder.iterdir()) == [
        ".lock",
        "tracker.2026-12-02T110000Z.daily.db",
    ]


def test_restore_is_refused_while_tracker_serve_holds_the_database(cli_run, db_path: Path) -> None:
    import fcntl
    import os

    for day in ("2026-12-01", "2026-12-02"):
        assert cli_run("checkin", env={"TRACKER_NOW": f"{day}T10:00:00+00:00"}).exit_code == 0
    (backup,) = list_backups(db_path)
    lock = db_path.with_name("tracker.db.serve.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as serve holds it
        before = db_path.read_bytes()
        result = cli_run("db", "restore", str(backup.path))
        assert (result.exit_code, result.stderr) == (
            3,
            f"Error: tracker serve is running for this database (lock {lock}): "
            "stop it, then restore\n",
        )
        assert db_path.read_bytes() == before and len(list_backups(db_path)) == 1
    finally:
        os.close(fd)
    assert cli_run("db", "restore", str(backup.path)).exit_code == 0


def test_the_backup_being_restored_survives_the_thinning_its_safety_copy_triggers(
    cli_run, db_path: Path, tracker_env: Path
) -> None:
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-11-01T10:00:00+00:00"}).exit_code == 0
    assert cli_run("checkin", env={"TRACKER_NOW": "2026-11-02T10:00:00+00:00"}).exit_code == 0
    (old,) = list_backups(db_path)
    newer = old.path.with_name("tracker.2026-11-02T200000Z.daily.db")  # the same day, later
    newer.write_bytes(old.path.read_bytes())
    # a month on, Anki's rule keeps only the newest backup of 11-02: `old` is obsolete
    result = cli_run("db", "restore", str(old.path), env={"TRACKER_NOW": "2026-12-02T10:00:00Z"})
    assert result.exit_code == 0, result.output
    assert old.path.exists() and _checkin_days(db_path) == ["2026-11-01"]


def test_restore_where_there_was_no_database(cli_run, db_path: Path, tmp_path: Path) -> None:
    for day in ("2026-12-01", "2026-12-02"):
        assert cli_run("checkin", env={"TRACKER_NOW": f"{day}T10:00:00+00:00"}).exit_code == 0
    (backup,) = list_backups(db_path)
    elsewhere = tmp_path / "fresh.db"
    result = cli_run("--db", str(elsewhere), "db", "restore", str(backup.path))
    assert result.stdout == (
        f"restored {elsewhere} from {backup.path}; there was no database there before\n"
    )
    assert _checkin_days(elsewhere) == ["2026-12-01"]
