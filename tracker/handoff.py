"""Hand a `tracker submit` to a running `tracker serve`, before the CLI is even loaded.

A cold submit pays for SQLAlchemy and torch before it can say anything. When
``tracker serve`` runs for the same database, it has both loaded already, so
this module (standard library and tracker's light modules only) forwards the
command line over the server's private socket and prints what the server's
run of the very same CLI command printed: the same validation, the same
recording, the same output and exit code, in a fraction of the time.

Anything unusual (no server, a socket that is not private, options this
parser does not know, ``--help``, a server that fails before answering) means
"not handed off": the caller runs the normal CLI, which reports errors itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from pathlib import Path
from typing import Any

SUBMIT_VALUE_OPTIONS = {"--device", "--timeout"}
SUBMIT_FLAGS = {"--json", "--review"}
# What the server's run of the command must see as this process would.
PASSED_ENV_PREFIXES = ("TRACKER_", "XDG_")
PASSED_ENV = {"HOME", "TZ", "NO_COLOR"}
CONNECT_TIMEOUT_S = 0.5


def parse_submit(argv: list[str]) -> tuple[str | None, list[str]] | None:
    """(--db value, submit's own arguments) when argv is a plain submit, else None."""
    db: str | None = None
    index = 0
    while index < len(argv) and argv[index] != "submit":
        arg = argv[index]
        if arg == "--db" and index + 1 < len(argv):
            db = argv[index + 1]
            index += 2
        elif arg.startswith("--db="):
            db = arg.removeprefix("--db=")
            index += 1
        else:
            return None
    if index >= len(argv):
        return None
    rest = argv[index + 1 :]
    positional: list[str] = []
    args: list[str] = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg in SUBMIT_FLAGS or arg.split("=", 1)[0] in SUBMIT_VALUE_OPTIONS and "=" in arg:
            args.append(arg)
        elif arg in SUBMIT_VALUE_OPTIONS and i + 1 < len(rest):
            args += [arg, rest[i + 1]]
            i += 1
        elif arg.startswith("-"):
            return None  # --help, a typo: the CLI answers those
        else:
            positional.append(arg)
        i += 1
    if len(positional) != 2:
        return None
    lesson, file = positional
    # The server resolves the file from its own working directory: make it absolute.
    return db, [lesson, os.path.abspath(file), *args]


PATH_ENV = ("TRACKER_DB", "TRACKER_CONFIG", "TRACKER_LESSONS")


def forwarded_env() -> dict[str, str]:
    """The environment the server's run must see, with relative paths made absolute."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in PASSED_ENV or key.startswith(PASSED_ENV_PREFIXES)
    }
    for key in PATH_ENV:
        value = env.get(key, "")
        if value.strip() and "://" not in value:
            env[key] = os.path.abspath(os.path.expanduser(value))
    return env


def server_for(db: str | None) -> tuple[str, Path] | None:
    """(the database as an absolute path or URL, its server's socket), if one may be there."""
    from tracker.config_file import config_path, read_file
    from tracker.db.location import resolve_location
    from tracker.errors import TrackerError
    from tracker.validation.wire import socket_is_private, warm_paths

    try:
        configured = ""
        if db is None and not os.environ.get("TRACKER_DB"):
            configured = read_file(config_path()).get("db", "")
        if not isinstance(configured, str):
            return None
        location = resolve_location(db, configured)
    except TrackerError:
        return None  # the CLI reports it
    path = warm_paths(location).socket
    if not socket_is_private(path):
        return None
    where = str(location.sqlite_path) if location.sqlite_path is not None else location.url
    return where, path


def exchange(path: Path, message: dict[str, Any]) -> dict[str, Any] | None:
    """Send the command; the server's reply, or None when it never got to run it."""
    from tracker.validation.wire import receive_message, send_message, socket_address

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(CONNECT_TIMEOUT_S)
        with socket_address(path) as address:
            conn.connect(address)
        send_message(conn, message)
        conn.settimeout(None)  # the run has its own wall-clock limits on the server
        reply = receive_message(conn)
    except (OSError, ValueError):
        return None
    finally:
        conn.close()
    return reply if reply.get("ok") is True else None


def try_handoff(argv: list[str]) -> int | None:
    """The exit code of the command run by ``tracker serve``, or None to run it here."""
    parsed = parse_submit(argv)
    if parsed is None:
        return None
    db, args = parsed
    server = server_for(db)
    if server is None:
        return None
    database, path = server
    message = {
        "op": "submit",
        "db": database,  # resolved here: the server runs in another directory
        "args": args,
        "env": forwarded_env(),
        "color": sys.stdout.isatty(),
    }
    reply = exchange(path, message)
    if reply is None:
        return None
    try:
        stdout, stderr, code = str(reply["stdout"]), str(reply["stderr"]), int(reply["exit_code"])
    except (KeyError, TypeError, ValueError):
        return None
    sys.stdout.write(stdout)
    sys.stdout.flush()
    sys.stderr.write(stderr)
    sys.stderr.flush()
    return code


def main() -> None:
    """The ``tracker`` console script."""
    argv = sys.argv[1:]
    if "submit" in argv:
        code = try_handoff(argv)
        if code is not None:
            sys.exit(code)
    from tracker.cli import main as cli_main

    try:
        cli_main()
        code = 0
    except SystemExit as exc:
        code = exit_status(exc.code)
    # The command has finished and closed what it opened (the store, job dirs);
    # the interpreter's teardown of torch and SQLAlchemy would only add ~0.1 s.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`tracker ... | head`)
            stream.flush()
    os._exit(code)


def exit_status(code: object) -> int:
    """What the interpreter would exit with for ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
