"""The daily commands: `tracker checkin` and `tracker status`, against the imports they must pay.

Floors: `checkin` against ``python -c "import sqlalchemy.orm, click"`` (what any command
of the full CLI pays; goal 1.3x), `status` against ``python -c "import sqlite3"`` (it
answers from the SQLite file with the standard library alone; goal 3x). The database
holds a learner with two months of daily history. Each run is a fresh process, warm
page cache; the commands and their floors alternate run by run. Also: peak RSS of
`checkin`.
"""

from __future__ import annotations

from collections.abc import Iterator

from benchmarks.harness import (
    Context,
    Figure,
    Process,
    compared,
    interleave,
    peak_rss_figure,
    python_command,
    tracker_command,
)
from benchmarks.workspace import init, tracker_env, write_history

NOW = "2025-11-10T08:30"
ORM_FLOOR = "import sqlalchemy.orm, click"
SQLITE_FLOOR = "import sqlite3"


def run(ctx: Context) -> Iterator[Figure]:
    env = tracker_env(ctx.tmp, "daily", now=NOW)
    init(env)
    write_history(env, days=ctx.size(60, 7), now=NOW)
    checkin = Process(tracker_command("checkin"), env)
    actions = {
        "orm": Process(python_command(ORM_FLOOR), env),
        "checkin": checkin,
        "checkin_json": Process(tracker_command("checkin", "--json"), env),
        "sqlite": Process(python_command(SQLITE_FLOOR), env),
        "status": Process(tracker_command("status"), env),
        "status_json": Process(tracker_command("status", "--json"), env),
    }
    t = interleave(actions, runs=ctx.runs_for(9), warmup=ctx.warmups() + (not ctx.quick))
    orm, sqlite = f'python -c "{ORM_FLOOR}"', f'python -c "{SQLITE_FLOOR}"'
    yield compared("checkin", t["checkin"], orm, t["orm"], max_ratio=1.3)
    yield compared("checkin --json", t["checkin_json"], orm, t["orm"], max_ratio=1.3)
    yield compared("status", t["status"], sqlite, t["sqlite"], max_ratio=3)
    yield compared("status --json", t["status_json"], sqlite, t["sqlite"], max_ratio=3)
    yield peak_rss_figure("checkin peak RSS", checkin)
