"""What the concurrency tests share: the environment of a run, and rows of either database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

TRACKER = [sys.executable, "-m", "tracker"]


class Rows:
    """Rows of either database through the tracker's own engine."""

    def __init__(self, db: str) -> None:
        from tracker.db.engine import create_engine_for, resolve_location

        self.engine = create_engine_for(resolve_location(db))

    def all(self, sql: str) -> list[tuple]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]

    def one(self, sql: str) -> object:
        return self.all(sql)[0][0]

    def close(self) -> None:
        self.engine.dispose()


def base_env(folder: Path, db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DB=db, TRACKER_CONFIG=str(folder / "config.toml"))
    return env
