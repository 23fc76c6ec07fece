"""The learner's timeline, as `tracker history` shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.errors import UsageError
from tracker.history import KINDS, HistoryEvent, learner_history
from tracker.store import Store


@dataclass(frozen=True)
class History:
    events: tuple[HistoryEvent, ...]

    def as_dict(self) -> list[dict[str, Any]]:
        return [event.as_dict() for event in self.events]


def history(
    store: Store,
    *,
    learner_id: int,
    limit: int | None = None,
    kinds: tuple[str, ...] = (),
    since: date | None = None,
) -> History:
    """Every event once, oldest first; only ``kinds`` (all when empty), from ``since``."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UsageError(f"unknown kind {unknown[0]!r}; choose from {', '.join(KINDS)}")
    with store.read() as session:
        events = learner_history(
            session, learner_id=learner_id, limit=limit, kinds=kinds or KINDS, since=since
        )
    return History(tuple(events))
