"""The learner's timeline, as `tracker history` shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.history import HistoryEvent, learner_history
from tracker.store import Store


@dataclass(frozen=True)
class History:
    events: tuple[HistoryEvent, ...]

    def as_dict(self) -> list[dict[str, Any]]:
        return [event.as_dict() for event in self.events]


def history(store: Store, *, learner_id: int, limit: int | None = None) -> History:
    with store.read() as session:
        return History(tuple(learner_history(session, learner_id=learner_id, limit=limit)))
