"""What every command shares: opening the store, errors as one line, output.

A command parses its options, calls one use case (``tracker.usecases``) and
renders the result (``tracker.render``); these helpers are the glue.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from tracker.errors import TrackerError
from tracker.render.style import Style


class Limit(click.IntRange):
    """``--limit N``: a whole number from 1; one beyond SQLite's 64 bits means "all"."""

    def __init__(self) -> None:
        super().__init__(min=1)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        return min(number, 2**63 - 1)


LIMIT = Limit()


class CommandFailed(click.ClickException):
    """A TrackerError shown as click shows errors: one line on stderr, its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class TrackerGroup(click.Group):
    """Turns core errors into one-line messages with the contract's exit codes."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.ClickException as exc:  # a usage error in the group's own options
            exc.message = one_line(exc.message)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        except click.ClickException as exc:  # click's messages quote argv as it was typed
            exc.message = one_line(exc.message)
            raise

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            raise CommandFailed(str(exc), exc.exit_code) from exc
        except UnicodeEncodeError as exc:
            if "surrogate" not in (exc.reason or ""):
                raise
            raise CommandFailed(not_utf8(exc), 2) from exc
        except DBAPIError as exc:
            if isinstance(exc.orig, UnicodeEncodeError) and "surrogate" in exc.orig.reason:
                raise CommandFailed(not_utf8(exc.orig), 2) from exc
            from tracker.db.engine import DatabaseLocation, translate_error

            store = (ctx.obj or {}).get("store")
            location = store.location if store is not None else DatabaseLocation(url="database")
            error = translate_error(exc, location)
            raise CommandFailed(str(error), error.exit_code) from exc


# What str.splitlines breaks at, and what a terminal acts on: never raw in a message.
_LINE_BREAKS = {"\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"}


def one_line(message: str) -> str:
    """An error message as one line: control characters (a value's newline, a terminal
    escape) are shown escaped, as Python writes them."""
    if message.isprintable():
        return message
    return "".join(
        char.encode("unicode_escape").decode("ascii")
        if char in _LINE_BREAKS or unicodedata.category(char) == "Cc"
        else char
        for char in message
    )


def not_utf8(exc: UnicodeEncodeError) -> str:
    """Bytes that are not UTF-8 reached argv (or the environment) as surrogate escapes.

    A file name may be any bytes, and paths pass through untouched; but an id, a
    key or a value is stored and shown as text, so it must be UTF-8.
    """
    value = exc.object if isinstance(exc.object, str) else ""
    shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return f"'{shown}' is not valid UTF-8 text: give it in UTF-8 (check the terminal's locale)"


def root_options(ctx: click.Context) -> dict[str, Any]:
    return ctx.find_root().ensure_object(dict)


def get_store(ctx: click.Context, *, prepare: bool = True):  # -> tracker.store.Store
    """The store for this invocation, opened once and closed when the command ends."""
    from tracker.store import open_store

    obj = root_options(ctx)
    key = "store" if prepare else "bare_store"
    if key not in obj:
        store = open_store(obj.get("db"), prepare=prepare)
        obj[key] = store
        ctx.find_root().call_on_close(store.close)
        for notice in store.notices:
            click.echo(notice, err=True)
    return obj[key]


def style(ctx: click.Context | None = None) -> Style:
    """How stdout may be decorated (``--no-color``, ``NO_COLOR``, a pipe)."""
    no_color = bool(ctx and root_options(ctx).get("no_color"))
    return Style.for_stream(sys.stdout, no_color=no_color)


def emit_json(document: Any) -> None:
    """Print one JSON document and nothing else on stdout."""
    from tracker.render.json_doc import dumps

    sys.stdout.write(dumps(document))
    sys.stdout.write("\n")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one short command, then restore it.

    Opening the store builds thousands of long-lived objects (tables, mappers,
    compiled statements); the collector would rescan them several times in a
    process that lives a quarter of a second and frees nothing cyclic. Pausing
    it takes about 20 ms (a tenth) off `tracker checkin` (benchmarks/bench_checkin.py).
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Re-enabling with the allocation counters this high would start a full
            # collection at once; freeze + unfreeze moves the survivors to the oldest
            # generation and zeroes the young counter, and leaves nothing frozen.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def complete_lesson(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Shell completion of lesson ids (from lessons/ on disk: no database)."""
    from click.shell_completion import CompletionItem

    from tracker.curriculum.names import lesson_ids

    return [CompletionItem(i) for i in lesson_ids() if i.startswith(incomplete)]
