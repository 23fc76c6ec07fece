"""Where the config file is, reading it, rewriting it safely: the light half of tracker.config.

Kept apart (standard library only, platformdirs when needed) so ``submit``'s
hand-off to ``tracker serve`` can find the database without loading the typed
settings.

Readers never lock: a writer replaces the file in one ``rename``, so a reader
sees the old file or the new one, never half of either. Writers (``config
set``) take an ``flock`` on ``config.toml.lock`` beside the file, read, change
and write under it (a unique temporary file, fsync, rename, fsync of the
directory), so eight concurrent sets of different keys keep all eight. A file
that cannot be read is reported with its path and line by every command; a
``config set`` on it keeps every line that still reads, moves the damaged
file aside (``config.toml.damaged-N``) and says so.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.errors import ConfigError, ConfigUnreadable, EnvironmentProblem
from tracker.paths import os_problem, user_dir, user_path

CONFIG_ENV = "TRACKER_CONFIG"
LOCK_TIMEOUT_S = 10.0


def config_path() -> Path:
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return user_path(explicit, what=CONFIG_ENV, error=ConfigError)
    return user_dir("config") / "config.toml"


def read_file(path: Path) -> dict[str, Any]:
    """The file's raw table; {} when there is none; ConfigError (path and line) when unreadable."""
    return read_config(path).raw


@dataclass(frozen=True)
class ConfigText:
    """A config file as read: its table and its lines (to say where a bad key is)."""

    raw: dict[str, Any]
    lines: tuple[str, ...] = ()

    def line_of(self, key: str) -> int | None:
        """The line that sets ``key`` (``key = ...`` or a ``[key]`` table), if any."""
        pattern = re.compile(rf"^\s*(?:{re.escape(key)}\s*=|\[\s*{re.escape(key)}\s*\])")
        return next((n for n, line in enumerate(self.lines, 1) if pattern.match(line)), None)


REPAIR_HINT = "fix it, or run `tracker config set KEY VALUE`: it keeps the lines that still read"


def read_config(path: Path) -> ConfigText:
    data = _read_bytes(path)
    if data is None:
        return ConfigText({})
    import tomllib

    try:
        text = data.decode("utf-8")
        raw = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reason = f"not UTF-8 text (at line {line})"
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)  # names the line: "... (at line 8, column 2)"
    else:
        return ConfigText(raw, tuple(text.splitlines()))
    raise ConfigUnreadable(f"{path}: cannot read config: {reason}; {REPAIR_HINT}", reason=reason)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None  # no file yet: every key has its default
    except IsADirectoryError:
        raise ConfigError(f"{path}: cannot read config: it is a directory") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {os_problem(exc)}") from None


# --- writing -------------------------------------------------------------------------------


@dataclass
class Repair:
    """What ``config set`` did with a file it could not read."""

    problem: str
    kept: list[str] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)  # line numbers
    moved_to: Path | None = None

    def describe(self) -> str:
        kept = ", ".join(self.kept) if self.kept else "nothing"
        if not self.dropped:
            dropped = "dropped nothing"
        else:
            noun = "line" if len(self.dropped) == 1 else "lines"
            dropped = f"dropped {noun} " + ", ".join(str(n) for n in self.dropped)
        return (
            f"repaired the config file ({self.problem}): kept {kept}; {dropped}; "
            f"the damaged file is {self.moved_to}"
        )


def update_file(
    path: Path,
    change: Callable[[dict[str, Any]], None],
    *,
    salvage: Callable[[str, Any], bool],
) -> Repair | None:
    """Apply ``change`` to the file's table under the writers' lock and write it back.

    A file that cannot be read is rebuilt from its lines that still read as one
    ``key = value`` each and that ``salvage(key, value)`` accepts; the damaged
    file is kept beside it. Returns what was repaired, if anything.
    """
    import tomli_w

    target = Path(os.path.realpath(path))  # a symlinked config.toml stays a symlink
    with _writers_lock(target):
        _remove_leftovers(target)
        repair = None
        try:
            raw = read_config(target).raw
        except ConfigUnreadable as exc:
            damaged = _read_bytes(target) or b""
            raw, repair = _salvage(damaged, exc.reason, salvage)
            repair.moved_to = _keep_copy(target, damaged)
        change(raw)
        _write_durably(target, tomli_w.dumps(raw).encode("utf-8"))
    return repair


@contextmanager
def _writers_lock(target: Path) -> Iterator[None]:
    import fcntl

    lock_path = target.with_name(target.name + ".lock")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {os_problem(exc)}") from None
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EnvironmentProblem(
                        f"{target} is being changed by another tracker process "
                        f"(waited {LOCK_TIMEOUT_S:g} s for {lock_path}); try again"
                    ) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # releases the lock


def _temporary_prefix(target: Path) -> str:
    return f".{target.name}."


def _remove_leftovers(target: Path) -> None:
    """Temporary files of writers that died before their rename (only writers make them,
    under this lock, so any found now is a leftover)."""
    prefix = _temporary_prefix(target)
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
            try:
                os.unlink(entry.path)
            except OSError:
                continue


def _write_durably(target: Path, data: bytes) -> None:
    import tempfile

    try:
        mode = os.stat(target).st_mode & 0o777
    except OSError:
        mode = 0o600  # a new file: it may hold a webhook URL or an address
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=_temporary_prefix(target), suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {os_problem(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(tmp)
        raise ConfigError(f"cannot write {target}: {os_problem(exc)}") from None
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename is done either way
    finally:
        os.close(fd)


def _salvage(
    data: bytes, problem: str, accept: Callable[[str, Any], bool]
) -> tuple[dict[str, Any], Repair]:
    """The lines of a damaged file that still read as one accepted ``key = value`` each."""
    import tomllib

    raw: dict[str, Any] = {}
    repair = Repair(problem)
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = tomllib.loads(line)
        except tomllib.TOMLDecodeError:
            item = {}
        if len(item) == 1:
            key, value = next(iter(item.items()))
            if key not in raw and accept(key, value):
                raw[key] = value
                repair.kept.append(key)
                continue
        repair.dropped.append(number)
    return raw, repair


def _keep_copy(target: Path, data: bytes) -> Path:
    """The damaged file's bytes as ``NAME.damaged-N`` (the first N free; never over a copy)."""
    number = 1
    while True:
        aside = target.with_name(f"{target.name}.damaged-{number}")
        try:
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            number += 1
            continue
        except OSError as exc:
            raise ConfigError(f"cannot keep a copy of {target}: {os_problem(exc)}") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return aside
