"""A database the environment has broken (issue 15, bad input): one line, exit 3, file untouched.

Each case breaks a copy of a real tracker database the way a machine does
(permissions, another process's lock, a read-only file or directory or file
system, random bytes, a truncated file, a damaged header, a full disk, a
revision from a newer tracker) and runs `checkin`, `status`, `review CARD
--rating good` and `db check` as a user does: ``python -m tracker`` in a
child process (so `status` takes its fast path first). Every command that
cannot do its job says why in one line and exits 3; none prints a traceback;
the database file is byte-for-byte what it was.

Tests usually run as root, whom permissions do not stop: the child is then
started under ``setpriv`` without the capabilities that bypass them
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so mode 000 means what it means for
anyone else. The full disk and the read-only file system are small tmpfs and
bind mounts; where mounting is not permitted those cases skip, saying so.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker.db.revisions import HEAD_REVISION

MADE = "2026-03-01T09:00"  # the template database's day
NOW = "2026-03-04T09:00"  # a later day: checkin must write, the card is due
COMMANDS = {
    "checkin": ("checkin",),
    "status": ("status",),
    "review": ("review", "1", "--rating", "good"),
    "db check": ("db", "check"),
}
WRITERS = ("checkin", "review")
READERS = ("status", "db check")
SETPRIV = shutil.which("setpriv")
NO_DAC = "--bounding-set=-dac_override,-dac_read_search"


def clean_env(folder: Path, db: Path, now: str) -> dict[str, str]:
    config = folder / "config.toml"
    if not config.exists():
        config.write_text('timezone = "UTC"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DB=str(db), TRACKER_CONFIG=str(config), TRACKER_NOW=now)
    return env


def argv_for(*args: str, unprivileged: bool) -> list[str]:
    argv = [sys.executable, "-m", "tracker", *args]
    if unprivileged and os.geteuid() == 0:
        if SETPRIV is None:
            pytest.skip("running as root, and setpriv is not here to drop the DAC capabilities")
        argv = [SETPRIV, NO_DAC, *argv]
    return argv


def run_all(
    db: Path, names: tuple[str, ...] = tuple(COMMANDS), *, unprivileged: bool = False
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run the commands side by side (none of them can change the broken file)."""
    env = clean_env(db.parent, db, NOW)
    started = {
        name: subprocess.Popen(
            argv_for(*COMMANDS[name], unprivileged=unprivileged),
            env=env,
            cwd=db.parent.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    }
    results = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=120)
        results[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return results


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(results: dict, names, message: str | re.Pattern[str]) -> None:  # noqa: ANN001
    for name in names:
        result = results[name]
        shown = f"{name}: rc={result.returncode}\n{result.stderr}"
        assert result.returncode == 3, shown
        assert "Traceback" not in result.stderr, shown
        assert result.stdout == "", shown
        # On a full disk the day's automatic backup fails first: its one warning line
        # (README, Backups) comes before the error.
        backup = "warning: the automatic backup failed: "
        lines = [x for x in result.stderr.splitlines() if not x.startswith(backup)]
        assert len(lines) == 1, shown
        if isinstance(message, re.Pattern):
            assert message.fullmatch(lines[0]), shown
        else:
            assert lines[0] == message, shown


def assert_answered(results: dict, names) -> None:  # noqa: ANN001
    for name in names:
        result = results[name]
        assert result.returncode == 0, f"{name}: rc={result.returncode}\n{result.stderr}"
        assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real database: a lesson learned (so card 1 exists), checkpointed into one file."""
    folder = tmp_path_factory.mktemp("template")
    db = folder / "tracker.db"
    made = subprocess.run(
        [sys.executable, "-m", "tracker", "learn", "transformer-1", "--yes"],
        env=clean_env(folder, db, MADE),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM review_cards WHERE id = 1").fetchone() == (1,)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for sidecar in ("-wal", "-shm"):
        Path(f"{db}{sidecar}").unlink(missing_ok=True)
    return db


@pytest.fixture
def broken(template: Path, tmp_path: Path) -> Path:
    """A copy of the template, alone in a folder of its own, for a test to break."""
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "tracker.db"
    shutil.copyfile(template, db)
    (folder / "config.toml").write_text('timezone = "UTC"\n')
    return db


def test_a_healthy_copy_answers_every_command(broken: Path) -> None:
    """The control: what the cases below break works on the untouched copy."""
    assert_answered(run_all(broken), COMMANDS)


# --- permissions -----------------------------------------------------------------------------


def test_an_unreadable_file(broken: Path) -> None:
    before = digest(broken)
    broken.chmod(0)
    try:
        results = run_all(broken, unprivileged=True)
    finally:
        broken.chmod(0o644)
    message = f"Error: cannot use database {broken}: cannot read it (Permission denied)"
    assert_refused(results, COMMANDS, message)
    assert digest(broken) == before


def test_a_read_only_file_is_read_but_never_written(broken: Path) -> None:
    before = digest(broken)
    broken.chmod(0o444)
    try:
        results = run_all(broken, unprivileged=True)
    finally:
        broken.chmod(0o644)
    assert_refused(
        results, WRITERS, f"Error: cannot use database {broken}: the file is read-only to you"
    )
    assert_answered(results, READERS)  # reading loses nothing: status and db check answer
    assert digest(broken) == before


def test_a_read_only_directory(broken: Path) -> None:
    before = digest(broken)
    folder = broken.parent
    folder.chmod(0o555)
    try:
        results = run_all(broken, unprivileged=True)
    finally:
        folder.chmod(0o755)
    assert_refused(
        results,
        COMMANDS,  # WAL: even a reader must create tracker.db-shm beside the file
        f"Error: cannot use database {broken}: its directory {folder} is read-only to you, "
        "and SQLite must create tracker.db-wal and tracker.db-shm beside it",
    )
    assert digest(broken) == before
    assert sorted(p.name for p in folder.iterdir()) == ["config.toml", "tracker.db"]


# --- mounts: a read-only file system, a full disk -----------------------------------------------


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"mounting is not permitted here ({done.stderr.strip() or done.returncode})")


@contextlib.contextmanager
def mounted(target: Path, *args: str) -> Iterator[Path]:
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    target.mkdir(exist_ok=True)
    mount(*args, str(target))
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True, timeout=30)


def test_a_read_only_file_system(broken: Path, tmp_path: Path) -> None:
    before = digest(broken)
    with mounted(tmp_path / "ro", "--bind", str(broken.parent)) as target:
        mount("-o", "remount,ro,bind", str(target))
        db = target / broken.name
        results = run_all(db)
        assert_refused(
            results, COMMANDS, f"Error: cannot use database {db}: it is on a read-only file system"
        )
    assert digest(broken) == before


def fill(folder: Path, leave_bytes: int) -> None:
    """Fill the file system holding ``folder`` until ``leave_bytes`` are free."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with open(folder / "filler", "wb") as handle:
        handle.write(b"\0" * max(free - leave_bytes, 0))
    remaining = os.statvfs(folder)
    assert remaining.f_bavail * remaining.f_frsize <= leave_bytes


FULL = re.compile(
    r"Error: cannot use database (?P<db>\S+): the disk is full \(\d+ KiB free in (?P<dir>\S+)\); "
    r"free some space and try again"
)


@pytest.mark.parametrize("free_kib", [0, 36])
def test_a_full_disk(free_kib: int, template: Path, tmp_path: Path) -> None:
    """0 KiB: not even SQLite's shared-memory file fits, so nothing can be read. 36 KiB:
    it fits (32 KiB) and readers answer, but no write-ahead frame does."""
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=1m", "tmpfs") as disk:
        db = disk / "tracker.db"
        shutil.copyfile(template, db)
        (disk / "config.toml").write_text('timezone = "UTC"\n')
        before = digest(db)
        fill(disk, free_kib * 1024)
        results = run_all(db)
        refused = COMMANDS if free_kib == 0 else WRITERS
        assert_refused(results, refused, FULL)
        for name in refused:
            match = FULL.fullmatch(results[name].stderr.strip().splitlines()[-1])
            assert (match["db"], match["dir"]) == (str(db), str(disk))
        if free_kib:
            assert_answered(results, READERS)
        assert digest(db) == before


# --- another process's lock ---------------------------------------------------------------------


HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode = EXCLUSIVE")  # readers too are shut out, past any timeout
conn.execute("BEGIN EXCLUSIVE")
conn.execute("SELECT count(*) FROM learners").fetchone()
print("held", flush=True)
sys.stdin.read()  # until the test closes the pipe
conn.rollback()
conn.close()
"""


@pytest.mark.slow
def test_a_database_locked_by_another_process_past_the_busy_timeout(broken: Path) -> None:
    before = digest(broken)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(broken)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        results = run_all(broken)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert_refused(
        results,
        COMMANDS,
        f"Error: database {broken} is locked by another tracker process (waited 5 s); try again",
    )
    assert digest(broken) == before
    assert_answered(run_all(broken, READERS), READERS)  # the lock gone, all is well


# --- damaged files ------------------------------------------------------------------------------


def random_bytes(db: Path) -> str:
    db.write_bytes(os.urandom(64 * 1024))
    return "file is not a database"


def truncated_mid_page(db: Path) -> str:
    os.truncate(db, db.stat().st_size // 3 + 123)
    return "database disk image is malformed"


def truncated_to_whole_pages(db: Path) -> str:
    os.truncate(db, (db.stat().st_size // 4096 - 1) * 4096)  # the last page lost
    return "database disk image is malformed"


def magic_overwritten(db: Path) -> str:
    with open(db, "r+b") as handle:
        handle.write(b"not SQLite at all")  # the 16-byte "SQLite format 3\0"
    return "file is not a database"


def page_size_damaged(db: Path) -> str:
    with open(db, "r+b") as handle:
        handle.seek(16)
        handle.write((1000).to_bytes(2, "big"))  # not a power of two
    return "file is not a database"


def schema_page_zeroed(db: Path) -> str:
    with open(db, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\0" * (4096 - 100))  # sqlite_master's b-tree page, after the header
    return "database disk image is malformed"


DAMAGE = [
    random_bytes,
    truncated_mid_page,
    truncated_to_whole_pages,
    magic_overwritten,
    page_size_damaged,
    schema_page_zeroed,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_a_corrupt_file(damage, broken: Path) -> None:  # noqa: ANN001
    reason = damage(broken)
    before = digest(broken)
    results = run_all(broken)
    assert_refused(
        results, COMMANDS, f"Error: {broken} is not a readable tracker database ({reason})"
    )
    assert digest(broken) == before


# --- a newer tracker's database ------------------------------------------------------------------


def test_a_database_from_a_newer_tracker(broken: Path) -> None:
    conn = sqlite3.connect(broken)
    try:
        with conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    before = digest(broken)
    results = run_all(broken)
    assert_refused(
        results,
        COMMANDS,  # db check included: `tracker db upgrade` cannot help, upgrading tracker can
        f"Error: {broken} has schema 9999_from_the_future, newer than this tracker knows "
        f"({HEAD_REVISION}): upgrade tracker",
    )
    assert digest(broken) == before


# --- not a file at all ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "character device"])
def test_a_database_path_that_is_not_a_regular_file(kind: str, tmp_path: Path) -> None:
    """A FIFO made SQLite's open() wait for a writer forever; a device read as an empty disk."""
    if kind == "fifo":
        target = tmp_path / "data" / "tracker.db"
        target.parent.mkdir()
        os.mkfifo(target)
        (target.parent / "config.toml").write_text('timezone = "UTC"\n')
        shown = "a FIFO"
    else:
        target = Path("/dev/null")
        shown = "a character device"
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    env = clean_env(folder, target, NOW)
    for name, args in COMMANDS.items():
        done = subprocess.run(
            [sys.executable, "-m", "tracker", *args],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=30,  # the FIFO used to hang here
        )
        assert (done.returncode, done.stderr.splitlines()) == (
            2,
            [f"Error: database path {target} is {shown}, not a file: give a file path"],
        ), name
