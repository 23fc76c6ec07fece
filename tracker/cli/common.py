"""What every command shares: opening the store, errors as one line, JSON output."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from tracker.errors import TrackerError


class CommandFailed(click.ClickException):
    """A TrackerError shown as click shows errors: one line on stderr, its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class TrackerGroup(click.Group):
    """Turns core errors into one-line messages with the contract's exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            raise CommandFailed(str(exc), exc.exit_code) from exc
        except DBAPIError as exc:
            from tracker.db.engine import DatabaseLocation, translate_error

            store = (ctx.obj or {}).get("store")
            location = store.location if store is not None else DatabaseLocation(url="database")
            error = translate_error(exc, location)
            raise CommandFailed(str(error), error.exit_code) from exc


def get_store(ctx: click.Context, *, sync: bool = True):  # -> tracker.store.Store
    """The store for this invocation, opened once and closed when the command ends."""
    from tracker.store import open_store

    obj = ctx.find_root().ensure_object(dict)
    if "store" not in obj:
        store = open_store(obj.get("db"), sync=sync)
        obj["store"] = store
        ctx.find_root().call_on_close(store.close)
        for notice in store.notices:
            click.echo(notice, err=True)
    return obj["store"]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(document: Any) -> None:
    """Print one JSON document and nothing else on stdout."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=_json_default))
    sys.stdout.write("\n")
