"""The ``tracker`` console script: take over Ctrl-C, try the hand-off, else run the CLI.

Kept tiny: a ``submit`` while ``tracker serve`` runs is answered without
loading click, SQLAlchemy or torch (``tracker.handoff``); only then is the
click group (``tracker.cli.app``) imported.
"""

from __future__ import annotations

import os
import sys

from tracker import interrupt


def main() -> None:
    interrupt.install()  # first (python -m tracker did already): Ctrl-C now exits 130 in one line
    argv = sys.argv[1:]
    if "status" in argv:
        code = _status(argv)
        if code is not None:
            _exit(code)
    if "submit" in argv:
        from tracker.handoff import RunHere, try_handoff

        handed = try_handoff(argv)
        if isinstance(handed, int):
            _exit(handed)
        if isinstance(handed, RunHere) and handed.request_id is not None:
            # The server may have recorded it: the cold run checks, under the same id.
            sys.argv = [sys.argv[0], *argv, "--request-id", handed.request_id]
    from tracker.cli.app import cli

    try:
        cli.main(prog_name="tracker")
        code = 0
    except SystemExit as exc:
        code = exit_status(exc.code)
    _exit(code)


def _status(argv: list[str]) -> int | None:
    """`tracker status` from the SQLite file alone, or None to run the full command."""
    db, no_color, rest = None, False, list(argv)
    while rest and rest[0] != "status":
        if rest[0] == "--db" and len(rest) > 1:
            db, rest = rest[1], rest[2:]
        elif rest[0].startswith("--db="):
            db, rest = rest[0].removeprefix("--db="), rest[1:]
        elif rest[0] == "--no-color":
            no_color, rest = True, rest[1:]
        else:
            return None
    if rest not in (["status"], ["status", "--json"]):
        return None
    from tracker.usecases.status import fast_status

    document = fast_status(db)
    if document is None:
        return None
    if rest[-1] == "--json":
        import json

        sys.stdout.write(json.dumps(document.as_dict(), indent=2) + "\n")
    else:
        from tracker.render.status import render_status
        from tracker.render.style import Style

        sys.stdout.write(render_status(document, Style.for_stream(sys.stdout, no_color=no_color)))
        sys.stdout.write("\n")
    return 0


def _exit(code: int) -> None:
    # The command has finished and closed what it opened (the store, job dirs);
    # the interpreter's teardown of torch and SQLAlchemy would only add ~0.1 s.
    import contextlib

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
