"""Fault injection points for the reliability tests; inert unless the tests ask.

``TRACKER_FAULTS`` (a comma-separated list of point names) makes the named
point end the process the way a crash would (``os._exit``, no clean-up), so a
test can kill ``tracker serve`` at exactly the moment it wants (after a
submission is committed, before the reply) instead of racing a timer. Real
users never set it; with it unset a point costs one dictionary lookup.
"""

from __future__ import annotations

import os

FAULTS_ENV = "TRACKER_FAULTS"


def crash_point(name: str) -> None:
    """Die here, as if killed, when the tests asked for ``name``."""
    wanted = os.environ.get(FAULTS_ENV)
    if wanted and name in wanted.split(","):
        os._exit(97)
