"""Automatic backups of a SQLite database, as Anki keeps them.

A consistent copy (SQLite's online backup API, verified before it is named:
``schema.backup_sqlite``) goes into ``backups/`` beside the database before
every schema upgrade, on the first write of each learner-day, and before a
restore or a repair. Names sort by time::

    backups/tracker.2026-12-02T181400Z.daily.db
    backups/tracker.2026-12-02T181400Z.2.schema-0003.db    (a second one that second)

After each new backup the folder is thinned (``tracker.db.thinning``: 12
daily, 10 weekly, 9 monthly). Only files named this way for this database are
ever listed or deleted. The day of a backup is the learner-day of its stamp,
read with the caller's clock, so ``TRACKER_NOW`` moves it too. PostgreSQL gets
no file backups (pg_dump is the tool there).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

FOLDER = "backups"
_STAMP = "%Y-%m-%dT%H%M%SZ"
_NAME = re.compile(
    r"^(?P<stem>.+)\.(?P<stamp>\d{4}-\d{2}-\d{2}T\d{6}Z)(?:\.(?P<n>\d+))?"
    r"\.(?P<kind>[a-z][a-z0-9-]*)\.db$"
)

DayOf = Callable[[datetime], date]


def utc_day(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken_at: datetime  # UTC, from the name
    sequence: int  # 1, 2, ... for backups named in the same second
    kind: str  # daily | schema-NNNN | before-restore | before-repair
    day: date  # the learner-day it was taken on
    size: int

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.day,
            "taken_at": self.taken_at,
            "kind": self.kind,
            "size": self.size,
            "path": str(self.path),
        }


def backup_folder(database: Path) -> Path:
    return database.parent / FOLDER


def list_backups(database: Path, *, day_of: DayOf = utc_day) -> list[BackupFile]:
    """This database's backups, oldest first (files of other names are not ours)."""
    folder = backup_folder(database)
    found: list[BackupFile] = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or match["stem"] != database.stem:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            size = entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
        taken_at = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
        found.append(
            BackupFile(
                path=folder / entry.name,
                taken_at=taken_at,
                sequence=int(match["n"] or 1),
                kind=match["kind"],
                day=day_of(taken_at),
                size=size,
            )
        )
    return sorted(found, key=lambda b: (b.taken_at, b.sequence))


def _name(database: Path, now: datetime, sequence: int, kind: str) -> str:
    stamp = now.astimezone(UTC).strftime(_STAMP)
    middle = f"{stamp}.{sequence}" if sequence > 1 else stamp
    return f"{database.stem}.{middle}.{kind}.db"


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One process at a time decides whether today's backup exists and thins the folder."""
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def make_backup(
    database: Path, *, now: datetime, kind: str, day_of: DayOf = utc_day, keep: Path | None = None
) -> tuple[Path, list[Path]]:
    """A verified copy in ``backups/``, then the folder thinned: (the copy, what was deleted).

    ``keep`` is never deleted by that thinning (the backup about to be restored).
    """
    folder = backup_folder(database)
    folder.mkdir(mode=0o700, exist_ok=True)
    with _folder_lock(folder):
        return _make(database, now=now, kind=kind, day_of=day_of, keep=keep)


def daily_backup(database: Path, *, now: datetime, day_of: DayOf = utc_day) -> Path | None:
    """The learner-day's backup, unless one was already taken that day (None then)."""
    folder = backup_folder(database)
    folder.mkdir(mode=0o700, exist_ok=True)
    with _folder_lock(folder):
        today = day_of(now)
        if any(b.day == today for b in list_backups(database, day_of=day_of)):
            return None
        return _make(database, now=now, kind="daily", day_of=day_of)[0]


def _make(
    database: Path, *, now: datetime, kind: str, day_of: DayOf, keep: Path | None = None
) -> tuple[Path, list[Path]]:
    from tracker.db.schema import backup_sqlite
    from tracker.errors import UsageError

    folder = backup_folder(database)
    _remove_partials(folder)
    sequence = 1
    while True:
        destination = folder / _name(database, now, sequence, kind)
        if not destination.exists():
            try:
                written = backup_sqlite(database, destination=destination)
                break
            except UsageError:
                if not destination.exists():  # not a name taken meanwhile: a real failure
                    raise
        sequence += 1
    return written, thin(database, today=day_of(now), day_of=day_of, keep=keep)


def _remove_partials(folder: Path) -> None:
    """Copies a killed backup left half-written (only ever written under the folder's lock)."""
    for entry in os.scandir(folder):
        if entry.name.startswith(".") and entry.name.endswith(".partial"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


def thin(
    database: Path, *, today: date, day_of: DayOf = utc_day, keep: Path | None = None
) -> list[Path]:
    """Delete the backups Anki's rule no longer keeps (never ``keep``); the paths deleted."""
    from tracker.db.thinning import obsolete_backups  # only once a backup was made

    deleted = []
    for backup in obsolete_backups(today, list_backups(database, day_of=day_of)):
        if keep is not None and backup.path == keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            backup.path.unlink()
            deleted.append(backup.path)
    return deleted


def check_backup_file(path: Path) -> str:
    """The schema revision of a file fit to restore; a one-line UsageError otherwise."""
    import urllib.parse

    from tracker.db.revisions import HEAD_REVISION, REVISIONS
    from tracker.errors import UsageError
    from tracker.paths import os_problem

    try:
        if not path.is_file():
            what = "no file" if not path.exists() else "not a file"
            raise UsageError(f"{path}: {what} to restore from")
        with open(path, "rb") as handle:
            header = handle.read(16)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {os_problem(exc)}") from None
    if header != b"SQLite format 3\x00":
        raise UsageError(f"{path} is not a SQLite database, so not a tracker backup")
    try:
        conn = sqlite3.connect(f"file:{urllib.parse.quote(str(path))}?mode=ro", uri=True)
        try:
            integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            revision = None
            if "alembic_version" in tables:
                revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise UsageError(f"{path} is damaged and cannot be restored ({exc})") from None
    if integrity != ["ok"]:
        raise UsageError(f"{path} is damaged and cannot be restored ({integrity[0]})")
    if revision is None:
        raise UsageError(f"{path} is a SQLite database but not a tracker database")
    if revision[0] not in REVISIONS:
        raise UsageError(
            f"{path} has schema {revision[0]}, newer than this tracker knows ({HEAD_REVISION})"
        )
    return str(revision[0])


def save_current_state(
    database: Path, *, now: datetime, day_of: DayOf = utc_day, source: Path | None = None
) -> Path:
    """A backup of the database before it is replaced: verified, or (when the file is
    damaged and cannot be copied through SQLite) its bytes as they are. The thinning
    that follows spares ``source``, the backup about to be restored."""
    import shutil

    from tracker.errors import TrackerError

    try:
        return make_backup(database, now=now, kind="before-restore", day_of=day_of, keep=source)[0]
    except TrackerError:
        folder = backup_folder(database)
        sequence = 1
        while (folder / _name(database, now, sequence, "damaged")).exists():
            sequence += 1
        destination = folder / _name(database, now, sequence, "damaged")
        shutil.copy2(database, destination)
        return destination


def restore_sqlite(source: Path, database: Path) -> None:
    """Replace the database's content with ``source``'s, through SQLite's backup API.

    Other processes' connections see the restored content on their next
    transaction (the copy is one write to the file, under SQLite's locks);
    the file is put back in WAL afterwards.
    """
    import urllib.parse

    from tracker.db.engine import BUSY_TIMEOUT_MS
    from tracker.errors import DatabaseUnavailable

    src = sqlite3.connect(f"file:{urllib.parse.quote(str(source))}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            src.backup(dest)
            dest.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise DatabaseUnavailable(f"cannot restore into {database}: {exc}") from None
            dest.close()
            _replace_damaged(src, database)
        finally:
            dest.close()
    finally:
        src.close()


def _damaged(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def _replace_damaged(src: sqlite3.Connection, database: Path) -> None:
    """A file SQLite cannot write into (its bytes are saved already) is replaced whole.

    The copy is made beside it and renamed over it; its stale ``-wal`` and
    ``-shm`` go first, or SQLite would apply the old log to the new file.
    """
    import tempfile

    fd, partial = tempfile.mkstemp(
        prefix=f".{database.name}.", suffix=".restore", dir=database.parent
    )
    os.close(fd)
    try:
        target = sqlite3.connect(partial)
        try:
            src.backup(target)
            target.execute("PRAGMA journal_mode = WAL")
        finally:
            target.close()
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{database}{suffix}")
        os.replace(partial, database)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(partial)
