"""Paths a user typed (options, environment, config), checked before the file system sees them.

``Path.expanduser`` raises ``RuntimeError`` for ``~nouser``, and a name longer
than the file system allows makes every later ``stat`` raise ``OSError``
(``exists()`` and ``is_dir()`` included): both surfaced as tracebacks. Every
path that comes from the user goes through ``user_path`` first, which turns
them into the one-line error of the caller's choice (exit 2). Standard library
only: the hand-off client and the config loader use it before anything loads.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tracker.errors import TrackerError, UsageError

NAME_MAX = 255  # bytes in one file name (Linux, macOS)
PATH_MAX = 4096  # bytes in a whole path (Linux)


def user_path(value: str, *, what: str, error: type[TrackerError] = UsageError) -> Path:
    """``value`` as a path, ``~`` expanded; ``error`` naming ``what`` when it cannot be one."""
    if "\0" in value:
        raise error(f"{what}: a path cannot contain a NUL character")
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # ~nouser, or ~ with no HOME and no passwd entry
        user = value.split("/", 1)[0]
        raise error(
            f"{what} {value}: cannot expand {user} (no such user or home directory)"
        ) from None
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise error(
                f"{what}: the name {shorten(part)} is {size} bytes long; "
                f"the file system allows {NAME_MAX}"
            )
    size = len(os.fsencode(str(path)))
    if size >= PATH_MAX:
        raise error(f"{what}: the path is {size} bytes long; the file system allows {PATH_MAX - 1}")
    return path


def shorten(name: str, keep: int = 24) -> str:
    """A long file name cut for a one-line message: its start, an ellipsis, its end."""
    if len(name) <= 2 * keep:
        return name
    return f"{name[:keep]}…{name[-8:]}"


def os_problem(exc: OSError) -> str:
    """An OSError in a few words, without repeating the (perhaps very long) file name."""
    return exc.strerror or type(exc).__name__


_XDG = {"data": ("XDG_DATA_HOME", ".local/share"), "config": ("XDG_CONFIG_HOME", ".config")}


def user_dir(kind: str) -> Path:
    """platformdirs' ``user_data_dir("tracker")`` or ``user_config_dir("tracker")``.

    The common Linux case (an absolute ``HOME``, no XDG override, not Android) is
    ``~/.local/share/tracker`` / ``~/.config/tracker``, worked out here: importing
    platformdirs costs `tracker status`, which runs on every shell prompt, about a
    tenth of its time. Every other case asks platformdirs
    (tests/test_paths.py checks that both agree).
    """
    variable, default = _XDG[kind]
    home = os.environ.get("HOME", "")
    if (
        sys.platform == "linux"
        and "ANDROID_DATA" not in os.environ
        and variable not in os.environ
        and os.path.isabs(home)
    ):
        return Path(home, default, "tracker")
    import platformdirs

    found = platformdirs.user_data_dir if kind == "data" else platformdirs.user_config_dir
    return Path(found("tracker"))
