"""One writer of tests/test_concurrency.py: `tracker` commands in a loop, each one noted.

Run as ``python tests/concurrency_writer.py ROLE SECONDS LOG``; the environment
(``TRACKER_DB``, ``TRACKER_CONFIG``) is the test's. Every command is a real
``python -m tracker`` process, as a user's would be; each one's arguments,
exit status and stderr go to LOG as one JSON line. Roles keep their writes
apart on the virtual clock (``TRACKER_NOW``), so each success is one row:

- ``checkin-even`` / ``checkin-odd``: a check-in on a day of their own; the
  odd one also races the reminder daemon with ``remind --once`` (the real
  clock, as the daemon's);
- ``review``: rates card 1, 2 or 3 "again" once per virtual day, later each time;
- ``study``: ``learn`` (a first pass, then practice) and ``import posts`` of a
  post for a day and concept of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.import_support import make_post  # noqa: E402

TRACKER = [sys.executable, "-m", "tracker"]
MIN_STEPS = 2  # however loaded the machine, each role writes this often
BASE = datetime(2024, 1, 1, 12, tzinfo=UTC)
LESSONS = ("transformer-1", "scaling-laws-1", "rlhf-1", "state-space-models-1")
POST_CONCEPTS = ("Alignment", "Red teaming", "Efficient fine-tuning", "Positional encoding")


def commands(role: str, n: int, folder: Path) -> list[tuple[list[str], datetime | None]]:
    """The commands of step ``n`` of ``role``, each with its virtual time (None: the clock)."""
    if role in ("checkin-even", "checkin-odd"):
        day = BASE + timedelta(days=2 * n + (role == "checkin-odd"))
        steps: list[tuple[list[str], datetime | None]] = [(["checkin"], day)]
        if role == "checkin-odd" and n % 3 == 0:
            steps.append((["remind", "--once"], None))
        return steps
    if role == "review":
        # "again": the card is due again within the day, so no rating is early (a note).
        return [(["review", str(1 + n % 3), "--rating", "again"], BASE + timedelta(days=n + 1))]
    if role == "study":
        day = BASE + timedelta(days=5000 + n)
        post = folder / f"post-{n}.md"
        post.write_text(make_post(day.date().isoformat(), POST_CONCEPTS[n % 4], 1))
        return [
            (["learn", LESSONS[n % len(LESSONS)], "--yes", "--force"], day),
            (["import", "posts", str(post)], day),
        ]
    raise SystemExit(f"unknown role {role}")


def main() -> None:
    role, seconds, log = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])
    folder = log.parent / f"{role}-posts"
    folder.mkdir(exist_ok=True)
    ends = time.monotonic() + seconds
    n = 0
    with log.open("a") as out:
        while n < MIN_STEPS or time.monotonic() < ends:
            for args, when in commands(role, n, folder):
                env = dict(os.environ)
                if when is not None:
                    env["TRACKER_NOW"] = when.isoformat()
                done = subprocess.run(
                    [*TRACKER, *args], env=env, capture_output=True, text=True, timeout=120
                )
                entry = {
                    "role": role,
                    "args": args,
                    "now": when.isoformat() if when else None,
                    "rc": done.returncode,
                    "stdout": done.stdout,
                    "stderr": done.stderr,
                }
                out.write(json.dumps(entry) + "\n")
                out.flush()
            n += 1


if __name__ == "__main__":
    main()
