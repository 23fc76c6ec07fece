"""Ctrl-C and SIGTERM: stop at once, say so in one line, leave nothing half-done.

A ``KeyboardInterrupt`` raised at a random point is the wrong tool for a
command that imports torch (an interrupted import leaves modules half-built:
"cannot load module more than once", then an abort from C++) or that records
a verdict (a swallowed interrupt once exited 0 with "progress recorded"). So
``python -m tracker`` and the console script install these handlers before
anything else loads:

- outside a prompt, the first SIGINT or SIGTERM runs the registered clean-ups
  (kill running workers, remove their job directories), prints one line and
  exits 130 (SIGINT) or 143 (SIGTERM) at once. Whatever the database had
  committed stays; an open transaction is rolled back by the database itself,
  as after any crash (one write is one transaction).
- inside ``prompting()`` (an interactive review, a confirmation), SIGINT raises
  ``KeyboardInterrupt`` as usual, so the prompt can stop cleanly (the terminal
  restored, the session summed up) and keep what was saved; the block's
  ``interrupted`` tells it that Ctrl-C, not the end of input, stopped it.

Until the handlers are in place a Ctrl-C is Python's own (a traceback), so
this module imports nothing the interpreter has not loaded already: the
builtin ``_signal`` rather than ``signal`` (which builds enums, 2 ms), no
``threading`` or ``contextlib``.
"""

from __future__ import annotations

import _signal as signals  # builtin: already loaded by the interpreter
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (5 ms)
if TYPE_CHECKING:
    from collections.abc import Callable

MESSAGE = "Interrupted: nothing more was recorded."
INTERRUPTED = 130  # the exit status of a command stopped by Ctrl-C (128 + SIGINT)

_cleanups: dict[int, Callable[[], None]] = {}
_next = 0
_prompts: list[prompting] = []
_installed = False


def on_interrupt(cleanup: Callable[[], None]) -> int:
    """Run ``cleanup`` if the process is interrupted; returns a handle for ``discard``.

    Dictionary updates are atomic under the GIL, and the handler runs in the
    main thread between bytecodes: no lock is needed (a lock held by the main
    thread when the signal arrives would deadlock the handler).
    """
    global _next
    _next += 1
    handle = _next
    _cleanups[handle] = cleanup
    return handle


def discard(handle: int) -> None:
    _cleanups.pop(handle, None)


class prompting:  # noqa: N801 - used as a function: ``with interrupt.prompting() as prompt``
    """Inside this block Ctrl-C is the learner's way out of a prompt: a KeyboardInterrupt."""

    def __init__(self) -> None:
        self.interrupted = False  # set when Ctrl-C (not the end of input) ended the prompt

    def __enter__(self) -> prompting:
        _prompts.append(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self in _prompts:
            _prompts.remove(self)


def _handle(signum: int, _frame: object) -> None:
    if signum == signals.SIGINT and _prompts:
        _prompts[-1].interrupted = True
        raise KeyboardInterrupt
    exit_now(128 + signum)


def exit_now(code: int, message: str = MESSAGE) -> None:
    """Clean up what is registered, say ``message``, and leave without unwinding anything.

    Runs inside a signal handler, perhaps while the main thread is half-way
    through a write to stdout: every step tolerates any error, and the message
    goes straight to the file descriptor.
    """
    _attempt(lambda: signals.signal(signals.SIGINT, signals.SIG_IGN))  # a 2nd Ctrl-C waits
    for cleanup in list(_cleanups.values()):
        _attempt(cleanup)
    _attempt(sys.stdout.flush)
    _attempt(sys.stderr.flush)
    _attempt(lambda: os.write(2, f"\n{message}\n".encode()))
    os._exit(code)


def _attempt(action: Callable[[], object]) -> None:
    """Run ``action``, ignoring any error: the process is leaving, do what can be done.

    Not ``contextlib.suppress``: the console script imports this before contextlib.
    """
    try:  # noqa: SIM105 - see above
        action()
    except Exception:  # noqa: BLE001, S110 - closed streams, a re-entered write, a dead worker
        pass


def install() -> None:
    """Take over SIGINT and SIGTERM for this process (the program's first act)."""
    global _installed
    try:
        signals.signal(signals.SIGINT, _handle)
        signals.signal(signals.SIGTERM, _handle)
    except ValueError:  # not the main thread (a test calling main() from a thread)
        return
    _installed = True


def installed() -> bool:
    return _installed
