"""Ctrl-C and SIGTERM: stop at once, say so in one line, leave nothing half-done.

A ``KeyboardInterrupt`` raised at a random point is the wrong tool for a
command that imports torch (an interrupted import leaves modules half-built:
"cannot load module more than once", then an abort from C++) or that records
a verdict (a swallowed interrupt once exited 0 with "progress recorded"). So
the console script installs these handlers before anything heavy loads:

- outside a prompt, the first SIGINT or SIGTERM runs the registered clean-ups
  (kill running workers, remove their job directories), prints one line and
  exits 130 (SIGINT) or 143 (SIGTERM) at once. Whatever the database had
  committed stays; an open transaction is rolled back by the database itself,
  as after any crash (one write is one transaction).
- inside ``prompting()`` (an interactive review, a confirmation), SIGINT raises
  ``KeyboardInterrupt`` as usual, so the prompt can stop cleanly and keep what
  was saved.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator

MESSAGE = "Interrupted: nothing more was recorded."

_cleanups: dict[int, Callable[[], None]] = {}
_lock = _thread.RLock()  # re-entrant: the handler may run while the main thread holds it
_next = 0
_prompting = 0
_installed = False


def on_interrupt(cleanup: Callable[[], None]) -> int:
    """Run ``cleanup`` if the process is interrupted; returns a handle for ``discard``."""
    global _next
    with _lock:
        _next += 1
        _cleanups[_next] = cleanup
        return _next


def discard(handle: int) -> None:
    with _lock:
        _cleanups.pop(handle, None)


@contextlib.contextmanager
def prompting() -> Iterator[None]:
    """Inside this block Ctrl-C is the learner's way out of a prompt: a KeyboardInterrupt."""
    global _prompting
    _prompting += 1
    try:
        yield
    finally:
        _prompting -= 1


def _handle(signum: int, _frame: object) -> None:
    if signum == signal.SIGINT and _prompting:
        raise KeyboardInterrupt
    exit_now(128 + signum)


def exit_now(code: int, message: str = MESSAGE) -> None:
    """Clean up what is registered, say ``message``, and leave without unwinding anything."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up
    with _lock:
        cleanups = list(_cleanups.values())
    for cleanup in cleanups:
        with contextlib.suppress(Exception):
            cleanup()
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"\n{message}\n")
        sys.stderr.flush()
    os._exit(code)


def install() -> None:
    """Take over SIGINT and SIGTERM for this process (the console script's first act)."""
    global _installed
    try:
        signal.signal(signal.SIGINT, _handle)
        signal.signal(signal.SIGTERM, _handle)
    except ValueError:  # not the main thread (a test's runner): leave the handlers be
        return
    _installed = True


def installed() -> bool:
    return _installed
