"""Fit a learner's FSRS parameters to their reviews, and keep them only if they predict better."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tracker.optimizer import OptimizeResult, load_reviews, optimize_reviews
from tracker.store import Store


@dataclass(frozen=True)
class OptimizeOutcome:
    result: OptimizeResult
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        return self.result.as_dict(dry_run=self.dry_run)


def optimize(
    store: Store, *, learner_id: int, now: datetime, dry_run: bool = False
) -> OptimizeOutcome:
    """Read the learner's logs, fit, and store the parameters when they lower the log loss.

    The fit runs outside any transaction (it can take a while); the write is
    one short transaction at the end.
    """
    from tracker.scheduling import load_parameters, save_parameters

    with store.read() as session:
        reviews = load_reviews(session, learner_id=learner_id)
        current = load_parameters(session, learner_id=learner_id)
    result = optimize_reviews(reviews, current=current)
    if dry_run or not result.improved:
        return OptimizeOutcome(result, dry_run)
    with store.write() as session:
        save_parameters(session, learner_id=learner_id, parameters=result.parameters, now=now)
    return OptimizeOutcome(replace(result, stored=True), dry_run)
