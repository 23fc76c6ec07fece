"""Hostile paths (issue 9, item 9): every one is a one-line error with exit 2, never a traceback.

Property tests: paths that ``~nouser`` starts, names longer than a file system
allows (ASCII and multi-byte), paths longer than PATH_MAX, a NUL, a path
through a file, ``/proc``, SQLite's own ``-wal``/``-shm``/``-journal`` names,
each given through every way a path reaches tracker (``--db``, ``TRACKER_DB``,
the config file's ``db``, ``TRACKER_CONFIG``, ``TRACKER_LESSONS``, a lesson
id, a submitted file, ``-o``, a backup path) and through the hand-off client,
which must leave the reporting to the CLI. Nothing may be created.
"""

from __future__ import annotations

import pwd
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples every run: a failure reproduces
)


def no_such_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return True
    return False


def hostile_paths(root: Path, suffix: str = ".db") -> st.SearchStrategy[str]:
    """Paths that cannot be used, each in one of the ways users (or scripts) write them."""
    users = st.from_regex(r"[a-z]{4,12}", fullmatch=True).filter(no_such_user)
    long_ascii = st.integers(256, 400).map(lambda n: "a" * n)
    long_multibyte = st.integers(128, 200).map(lambda n: "é" * n)  # two bytes each
    long_name = st.one_of(long_ascii, long_multibyte)
    return st.one_of(
        users.map(lambda user: f"~{user}/x{suffix}"),
        long_name.map(lambda name: f"{root}/{name}{suffix}"),
        long_name.map(lambda name: f"{root}/{name}/x{suffix}"),
        st.integers(21, 30).map(lambda n: f"{root}/" + "/".join(["d" * 200] * n) + suffix),
        st.just(f"{root}/nul\0byte{suffix}"),
        st.just(f"{root}/a-file.txt/x{suffix}"),
        st.just(f"/proc/x{suffix}"),
    )


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def assert_one_line_error(result, expected: set[int] = frozenset({2})) -> None:  # noqa: ANN001
    assert result.exit_code in expected, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr


@pytest.fixture
def prepared(tracker_env: Path, cli_run) -> Path:
    assert cli_run("init").exit_code == 0
    (tracker_env / "a-file.txt").write_text("a file, not a directory\n")
    return tracker_env


LOCATION_SOURCES = ("--db", "TRACKER_DB", "config db", "TRACKER_CONFIG", "TRACKER_LESSONS")


def usable_in(source: str, value: str) -> bool:
    """Neither argv nor the environment can carry a NUL (a TOML file can); a config file
    that is not there (/proc/x.toml) is no mistake: every key has its default."""
    if source == "TRACKER_CONFIG" and value.startswith("/proc/"):
        return False
    return "\0" not in value or source == "config db"


def run_with_location(source: str, value: str, root: Path, cli_run, *args: str):  # noqa: ANN201
    config = root / "config.toml"
    if source == "--db":
        return cli_run("--db", value, *args)
    if source == "TRACKER_DB":
        return cli_run(*args, env={"TRACKER_DB": value})
    if source == "config db":
        alternative = root / "alt.toml"
        alternative.write_text(tomli_w.dumps({"timezone": "UTC", "db": value}))
        return cli_run(*args, env={"TRACKER_CONFIG": str(alternative), "TRACKER_DB": None})
    if source == "TRACKER_CONFIG":
        return cli_run(*args, env={"TRACKER_CONFIG": value})
    assert source == "TRACKER_LESSONS"
    assert config.exists()
    return cli_run(*args, env={"TRACKER_LESSONS": value})


@SETTINGS
@given(data=st.data())
def test_hostile_locations_are_one_line_errors(
    data: st.DataObject, prepared: Path, cli_run
) -> None:
    source = data.draw(st.sampled_from(LOCATION_SOURCES), label="source")
    value = data.draw(hostile_paths(prepared, ".toml" if "CONFIG" in source else ".db"))
    assume(usable_in(source, value))
    before = snapshot(prepared)
    result = run_with_location(source, value, prepared, cli_run, "checkin")
    assert_one_line_error(result, {2, 3})  # 3: a place that cannot hold a database (/proc)
    assert snapshot(prepared) - before <= {"alt.toml"}


@SETTINGS
@given(data=st.data())
def test_the_hand_off_client_leaves_hostile_locations_to_the_cli(
    data: st.DataObject, prepared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.handoff import RunHere, try_handoff

    source = data.draw(st.sampled_from(LOCATION_SOURCES), label="source")
    value = data.draw(hostile_paths(prepared, ".toml" if "CONFIG" in source else ".db"))
    assume(usable_in(source, value))
    argv = ["submit", "attention-mechanism-1", "x.py"]
    with monkeypatch.context() as patch:
        if source == "--db":
            argv = ["--db", value, *argv]
        elif source == "config db":
            alternative = prepared / "alt.toml"
            alternative.write_text(tomli_w.dumps({"timezone": "UTC", "db": value}))
            patch.setenv("TRACKER_CONFIG", str(alternative))
            patch.delenv("TRACKER_DB")
        else:
            patch.setenv(source, value)
        assert try_handoff(argv) in (None, RunHere())


COMMANDS = {
    "-o": lambda value: ("lesson", "exercise", "attention-mechanism-1", "-o", value),
    "backup": lambda value: ("db", "backup", value),
    "file": lambda value: ("submit", "attention-mechanism-1", value),
}


@SETTINGS
@given(data=st.data())
def test_hostile_output_input_and_backup_paths_are_one_line_errors(
    data: st.DataObject, prepared: Path, cli_run
) -> None:
    where = data.draw(st.sampled_from(sorted(COMMANDS)), label="where")
    value = data.draw(hostile_paths(prepared, ".py" if where != "backup" else ".db"))
    assume("\0" not in value)  # argv cannot carry one
    before = snapshot(prepared)
    assert_one_line_error(cli_run(*COMMANDS[where](value)))
    assert snapshot(prepared) == before


@SETTINGS
@given(
    lesson=st.one_of(
        st.integers(256, 600).map(lambda n: "a" * n),
        st.integers(100, 300).map(lambda n: "attention-" * n),
        st.sampled_from(["../../etc/passwd", "/", ".", "..", "~nouser", "-"]),
    ),
    command=st.sampled_from(["submit", "learn", "show", "exercise"]),
)
def test_hostile_lesson_ids_are_one_line_errors(
    lesson: str, command: str, prepared: Path, cli_run
) -> None:
    (prepared / "x.py").write_text("x = 1\n")
    args = {
        "submit": ("submit", lesson, str(prepared / "x.py")),
        "learn": ("learn", lesson, "--yes"),
        "show": ("lesson", "show", lesson),
        "exercise": ("lesson", "exercise", lesson),
    }[command]
    result = cli_run(*args)
    assert_one_line_error(result)
    assert "no lesson" in result.stderr


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_a_backup_named_like_sqlites_own_files_is_refused(
    suffix: str, prepared: Path, cli_run
) -> None:
    target = prepared / f"tracker.db{suffix}"  # the live database's own WAL, for -wal
    result = cli_run("db", "backup", str(target))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Error: tracker.db{suffix} ends in {suffix}, a name SQLite uses for its own files "
        "(it would delete or misread the copy); choose another name"
    )
    assert cli_run("db", "check").exit_code == 0


def test_messages_name_the_problem(prepared: Path, cli_run) -> None:
    long = "a" * 300
    cases = [
        (
            ("--db", "~nouser/x.db", "checkin"),
            "Error: --db ~nouser/x.db: cannot expand ~nouser (no such user or home directory)",
        ),
        (
            ("--db", f"{prepared}/{long}.db", "checkin"),
            f"Error: --db: the name {'a' * 24}…{'a' * 5}.db is 303 bytes long; "
            "the file system allows 255",
        ),
        (
            ("db", "backup", "/proc/x.db"),
            "Error: cannot write a backup in /proc: No such file or directory",
        ),
        (
            ("lesson", "exercise", "attention-mechanism-1", "-o", f"{prepared}/a-file.txt/x.py"),
            f"Error: cannot write {prepared}/a-file.txt/x.py: Not a directory",
        ),
    ]
    for args, message in cases:
        result = cli_run(*args)
        assert (result.exit_code, result.stderr.strip()) == (2, message)
