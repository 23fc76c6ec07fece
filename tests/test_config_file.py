"""The config file under faults (issue 9, items 8 and 11).

8: concurrent `config set` of different keys keeps every key (a lock, a
unique temporary file, fsync, rename); a torn or unreadable file is one error
naming the file and the line for every command, and `config set` rebuilds it
from the lines that still read, keeping the damaged file beside it.
11: a relative ``db`` in the file means the file's directory (for the CLI and
the hand-off client alike), ``config set db REL`` stores the path it meant
where it was typed, and ``db = 5`` or a ``[db]`` table is a config error.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tracker import config_file
from tracker.config import load_settings, store_value
from tracker.errors import ConfigError, ConfigUnreadable, EnvironmentProblem

TORN = 'timezone = "UTC"\nlearner = "alice"\n8:30"\n'  # two writers' bytes interleaved
TORN_REASON = "Expected '=' after a key in a key/value pair (at line 3, column 2)"


def torn_message(path: Path) -> str:
    return (
        f"Error: {path}: cannot read config: {TORN_REASON}; fix it, or run "
        "`tracker config set KEY VALUE`: it keeps the lines that still read"
    )


# --- 8: concurrent writers -------------------------------------------------------------------

KEYS = {
    "timezone": "Asia/Seoul",
    "day_starts_at": "5",
    "sessions_per_week": "4",
    "desired_retention": "0.85",
    "reminder_time": "08:30",
    "learner": "alice",
    "validation_timeout": "90",
    "maximum_interval": "3650",
}


@pytest.mark.slow
def test_eight_concurrent_sets_keep_all_eight_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    for round_ in range(4):
        path = tmp_path / f"round{round_}" / "config.toml"  # from no file, as in the report
        env["TRACKER_CONFIG"] = str(path)
        setters = [
            subprocess.Popen(
                [sys.executable, "-m", "tracker", "config", "set", key, value],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for key, value in KEYS.items()
        ]
        for setter in setters:
            _out, err = setter.communicate(timeout=60)
            assert setter.returncode == 0, err
        settings = load_settings(path)
        assert {key: str(getattr(settings, key)) for key in KEYS} == {
            **KEYS,
            "desired_retention": "0.85",
        }, f"round {round_}: {path.read_text()}"
        assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml", "config.toml.lock"]


def test_a_writer_waits_for_the_lock_then_gives_up_with_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('timezone = "UTC"\n')
    monkeypatch.setattr(config_file, "LOCK_TIMEOUT_S", 0.2)
    with open(tmp_path / "config.toml.lock", "w") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # another `config set` in the middle
        with pytest.raises(EnvironmentProblem) as raised:
            store_value("learner", "bob", path)
    assert str(raised.value) == (
        f"{path} is being changed by another tracker process "
        f"(waited 0.2 s for {path}.lock); try again"
    )
    assert raised.value.exit_code == 3
    assert path.read_text() == 'timezone = "UTC"\n'
    assert store_value("learner", "bob", path).value == "bob"  # once the holder let go


def test_a_dead_writers_temporary_file_is_removed_and_modes_and_links_kept(
    tmp_path: Path,
) -> None:
    real = tmp_path / "dotfiles" / "tracker.toml"
    real.parent.mkdir()
    real.write_text('webhook_url = "https://example.invalid/x"\n')
    real.chmod(0o640)
    link = tmp_path / "linked.toml"
    link.symlink_to(real)
    leftover = real.with_name(".tracker.toml.abc123.tmp")  # a writer SIGKILLed before its rename
    leftover.write_text("half")
    store_value("learner", "bob", link)
    assert link.is_symlink() and not leftover.exists()
    assert real.stat().st_mode & 0o777 == 0o640
    assert load_settings(link).learner == "bob"
    assert load_settings(link).webhook_url == "https://example.invalid/x"


# --- 8: torn and unreadable files ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["checkin"],
        ["plan"],
        ["due"],
        ["history"],
        ["config", "show"],
        ["db", "check"],
        ["submit", "attention-mechanism-1", "x.py"],
    ],
)
def test_a_torn_file_is_one_error_naming_file_and_line(
    args: list[str], tracker_env: Path, cli_run
) -> None:
    path = tracker_env / "config.toml"
    path.write_text(TORN)
    result = cli_run(*args)
    assert result.exit_code == 2
    assert result.stderr.strip() == torn_message(path)
    assert not (tracker_env / "tracker.db").exists()


def test_the_hand_off_client_leaves_a_torn_file_to_the_cli(tracker_env: Path) -> None:
    from tracker.handoff import try_handoff

    (tracker_env / "config.toml").write_text(TORN)
    assert try_handoff(["submit", "attention-mechanism-1", "x.py"]) is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'learner = "al\xffice"\n', "not UTF-8 text (at line 1)"),
        (b'timezone = "UTC"\n\nday_starts_at = \n', "Invalid value (at line 3, column 17)"),
        (
            b'timezone = "UTC"\ntimezone = "UTC"\n',
            "Cannot overwrite a value (at line 2, column 17)",
        ),
    ],
)
def test_unreadable_files_name_the_line(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigUnreadable) as raised:
        load_settings(path)
    assert raised.value.reason == reason
    assert str(raised.value).startswith(f"{path}: cannot read config: {reason}; fix it")


def test_a_bad_value_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('timezone = "UTC"\n# a comment\nday_starts_at = 99\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert str(raised.value) == (
        f"{path}: invalid value for day_starts_at: must be between 0 and 23 (line 3)"
    )


def test_a_config_that_is_a_directory_is_one_error(tmp_path: Path, cli_run) -> None:
    result = cli_run("checkin", env={"TRACKER_CONFIG": str(tmp_path)})
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {tmp_path}: cannot read config: it is a directory"


def test_config_set_repairs_a_torn_file_keeping_what_reads(tracker_env: Path, cli_run) -> None:
    path = tracker_env / "config.toml"
    path.write_text(TORN)
    result = cli_run("config", "set", "day_starts_at", "5")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        f"repaired the config file ({TORN_REASON}): kept timezone, learner; "
        f"dropped line 3; the damaged file is {path}.damaged-1"
    )
    assert result.stdout.strip() == f"day_starts_at = 5 (saved to {path})"
    assert path.with_name("config.toml.damaged-1").read_text() == TORN
    settings = load_settings(path)
    assert (settings.timezone, settings.learner, settings.day_starts_at) == ("UTC", "alice", 5)
    assert cli_run("checkin").exit_code == 0
    path.write_text("day_starts_at = 7\nlearner = \n")  # damaged again: a second copy
    assert cli_run("config", "set", "learner", "bob").exit_code == 0
    assert path.with_name("config.toml.damaged-1").read_text() == TORN
    assert path.with_name("config.toml.damaged-2").read_text() == "day_starts_at = 7\nlearner = \n"
    assert (load_settings(path).day_starts_at, load_settings(path).learner) == (7, "bob")


def test_a_repair_drops_lines_whose_values_are_invalid(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('day_starts_at = 99\ncolour = "blue"\ntimezone = "UTC"\n[broken\n')
    stored = store_value("learner", "bob", path)
    assert stored.repair is not None
    assert (stored.repair.kept, stored.repair.dropped) == (["timezone"], [1, 2, 4])
    assert path.read_text() == 'timezone = "UTC"\nlearner = "bob"\n'


# --- 11: where a relative db is --------------------------------------------------------------


def test_a_relative_db_in_the_file_means_the_files_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_run
) -> None:
    home = tmp_path / "conf"
    home.mkdir()
    (home / "data").mkdir()
    config = home / "config.toml"
    config.write_text('timezone = "UTC"\ndb = "data/mine.db"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("TRACKER_DB")
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    assert cli_run("checkin").exit_code == 0
    assert (home / "data" / "mine.db").exists()
    assert list(elsewhere.iterdir()) == []
    assert load_settings(config).db == str(home / "data" / "mine.db")


def test_config_set_db_stores_the_path_where_it_was_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_run
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli_run("config", "set", "db", "mydata.db")
    assert result.exit_code == 0
    assert result.stdout.strip().startswith(f'db = "{tmp_path / "mydata.db"}" (saved to ')
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    monkeypatch.delenv("TRACKER_DB")
    assert cli_run("checkin").exit_code == 0
    assert (tmp_path / "mydata.db").exists() and list(other.iterdir()) == []
    assert store_value("db", "postgresql+psycopg://u@h/db", tmp_path / "c.toml").value == (
        "postgresql+psycopg://u@h/db"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [("db = 5\n", 1), ('timezone = "UTC"\n[db]\npath = "x.db"\n', 2), ("db = true\n", 1)],
)
def test_a_db_that_is_not_text_is_a_config_error(
    text: str, line: int, tracker_env: Path, monkeypatch: pytest.MonkeyPatch, cli_run
) -> None:
    path = tracker_env / "config.toml"
    path.write_text(text)
    monkeypatch.delenv("TRACKER_DB")
    result = cli_run("checkin")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Error: {path}: invalid value for db: expected a file path or a database URL, "
        f"as text in quotes (line {line})"
    )
    assert not (tracker_env / "5").exists() and not (tracker_env / "True").exists()


def test_the_hand_off_client_resolves_a_relative_db_against_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.handoff import build_request, parse_submit

    home = tmp_path / "conf"
    home.mkdir()
    config = home / "config.toml"
    config.write_text('timezone = "UTC"\ndb = "mine.db"\n')
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    monkeypatch.delenv("TRACKER_DB")
    monkeypatch.chdir(tmp_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(home / "mine.db.sock"))
    os.chmod(home / "mine.db.sock", 0o600)
    try:
        args = parse_submit(["submit", "attention-mechanism-1", "x.py"])
        assert args is not None
        built = build_request(args)
    finally:
        listener.close()
    assert built is not None
    request, sock = built
    assert (request.database, sock) == (str(home / "mine.db"), home / "mine.db.sock")
