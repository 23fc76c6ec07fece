"""Hand a `tracker submit` to a running `tracker serve`, before the CLI is even loaded.

A cold submit pays for SQLAlchemy and torch before it can say anything. When
``tracker serve`` runs for the same database it has both loaded already, so
this client (standard library and tracker's light modules only) resolves what
the request needs here (the database, the lessons folder, the settings, the
time), sends it (``tracker.validation.protocol``), and renders the outcome
with the same renderer as a cold submit.

Every wait is bounded: connecting, the server's "accepted", and each
heartbeat while the checks run. A server that does not answer in time, or
that fails before its final reply, means "run it here": the caller runs the
CLI with the same request id, so a submission the server did record is never
recorded twice. Anything unusual (no server, a socket that is not private,
options this parser does not know, ``--help``) means "not handed off" and the
CLI reports errors itself.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.validation import protocol

SUBMIT_VALUE_OPTIONS = {"--device", "--timeout"}
SUBMIT_FLAGS = {"--json", "--review", "--quiet", "-q"}
GROUP_FLAGS = {"--no-color"}


@dataclass(frozen=True)
class SubmitArgs:
    db: str | None
    lesson: str
    file: str  # absolute
    device: str = "auto"
    timeout: int | None = None
    as_json: bool = False
    review: bool = False
    no_color: bool = False
    quiet: bool = False


@dataclass(frozen=True)
class RunHere:
    """Run the command in this process, as the request ``request_id`` (None: a fresh one)."""

    request_id: str | None = None


def parse_submit(argv: list[str]) -> SubmitArgs | None:
    """The submit's arguments when argv is a plain submit this client can hand off, else None."""
    db: str | None = None
    no_color = False
    index = 0
    while index < len(argv) and argv[index] != "submit":
        arg = argv[index]
        if arg == "--db" and index + 1 < len(argv):
            db = argv[index + 1]
            index += 2
        elif arg.startswith("--db="):
            db = arg.removeprefix("--db=")
            index += 1
        elif arg in GROUP_FLAGS:
            no_color = True
            index += 1
        else:
            return None
    if index >= len(argv):
        return None
    rest = argv[index + 1 :]
    positional: list[str] = []
    values: dict[str, str] = {}
    flags: set[str] = set()
    i = 0
    while i < len(rest):
        arg = rest[i]
        name, equals, value = arg.partition("=")
        if arg in SUBMIT_FLAGS:
            flags.add(arg)
        elif equals and name in SUBMIT_VALUE_OPTIONS:
            values[name] = value
        elif arg in SUBMIT_VALUE_OPTIONS and i + 1 < len(rest):
            values[arg] = rest[i + 1]
            i += 1
        elif arg.startswith("-"):
            return None  # --help, a typo: the CLI answers those
        else:
            positional.append(arg)
        i += 1
    if len(positional) != 2:
        return None
    device = values.get("--device", "auto").lower()
    timeout_text = values.get("--timeout")
    if device not in protocol.DEVICES:
        return None
    timeout = None
    if timeout_text is not None:
        if not timeout_text.isdigit() or not 1 <= int(timeout_text) <= 3600:
            return None
        timeout = int(timeout_text)
    lesson, file = positional
    return SubmitArgs(
        db=db,
        lesson=lesson,
        # The server resolves the file from its own working directory: make it absolute.
        file=os.path.abspath(file),
        device=device,
        timeout=timeout,
        as_json="--json" in flags,
        review="--review" in flags,
        no_color=no_color,
        quiet=bool(flags & {"--quiet", "-q"}),
    )


def build_request(args: SubmitArgs) -> tuple[protocol.SubmitMessage, Path] | None:
    """The request and the socket to send it to, when a server may be there."""
    from tracker.config import load_settings, settings_dict
    from tracker.db.location import resolve_location
    from tracker.errors import TrackerError
    from tracker.resources import lessons_dir
    from tracker.validation.wire import socket_is_private, warm_paths

    try:
        settings = load_settings()
        location = resolve_location(args.db, settings.db)
        path = warm_paths(location).socket
        if not socket_is_private(path):
            return None
        now = settings.clock.now()
        lessons = str(lessons_dir().resolve())
    except TrackerError:
        return None  # the CLI reports it
    database = str(location.sqlite_path) if location.sqlite_path is not None else location.url
    request = protocol.SubmitMessage(
        request_id=protocol.new_request_id(),
        lesson_id=args.lesson,
        file=args.file,
        device=args.device,
        timeout=args.timeout,
        for_review=args.review,
        database=database,  # resolved here: the server runs in another directory
        lessons_dir=lessons,
        settings=settings_dict(settings),
        now=now.isoformat(),
    )
    return request, path


def exchange(path: Path, request: protocol.SubmitMessage) -> dict[str, Any] | RunHere:
    """Send the request; the server's final reply, or what to run here instead."""
    from tracker.validation.wire import LineReader, send_message, socket_address

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    accepted = False
    try:
        conn.settimeout(protocol.CONNECT_TIMEOUT_S)
        with socket_address(path) as address:
            conn.connect(address)
        send_message(conn, request.to_message())
        reader = LineReader(conn)
        conn.settimeout(protocol.ACCEPT_TIMEOUT_S)
        first = reader.next()
        if first.get("event") != "accepted":
            return RunHere()  # declined before it did anything
        accepted = True
        conn.settimeout(protocol.SILENCE_TIMEOUT_S)
        while True:
            reply = reader.next()
            if reply.get("event") == "progress":
                continue
            break
    except (OSError, ValueError):
        # Stopped, hung or gone: run it here. Once accepted, the server may have
        # recorded it already; the request id makes the cold run see that.
        return RunHere(request.request_id if accepted else None)
    finally:
        conn.close()  # before the reply, this cancels the request on the server
    if reply.get("ok") is not True:
        return RunHere(request.request_id)
    return reply


def try_handoff(argv: list[str]) -> int | RunHere | None:
    """The exit code of a submit ``tracker serve`` ran; else None or RunHere: run the CLI."""
    args = parse_submit(argv)
    if args is None:
        return None
    built = build_request(args)
    if built is None:
        return None
    request, path = built
    from tracker.render.progress import spinning

    with spinning(f"checking {args.lesson}", enabled=not (args.as_json or args.quiet)):
        reply = exchange(path, request)
    if isinstance(reply, RunHere):
        return reply
    try:
        code = int(reply["exit_code"])
        outcome = reply.get("outcome")
        error = reply.get("error")
    except (KeyError, TypeError, ValueError):
        return RunHere(request.request_id)
    if isinstance(error, str):
        sys.stderr.write(f"Error: {error}\n")
        return code
    if not isinstance(outcome, dict):
        return RunHere(request.request_id)
    if not _renderable(outcome):
        return RunHere(request.request_id)
    print_outcome(outcome, args)
    return code


def _renderable(outcome: dict[str, Any]) -> bool:
    from tracker.validation.verdict import verdict_from

    try:
        verdict_from(outcome)
    except (KeyError, TypeError, ValueError):
        return False
    return True


def print_outcome(outcome: dict[str, Any], args: SubmitArgs) -> None:
    if args.as_json:
        from tracker.render.json_doc import dumps

        sys.stdout.write(dumps(outcome) + "\n")
    else:
        import shutil

        from tracker.render.style import Style
        from tracker.render.verdict import render_verdict

        style = Style.for_stream(sys.stdout, no_color=args.no_color)
        width = max(40, shutil.get_terminal_size((100, 24)).columns)
        lines = render_verdict(outcome, style, width=width, quiet=args.quiet)
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
