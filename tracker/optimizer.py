"""Fit a learner's FSRS parameters to their own review logs.

The fitting is fsrs' ``Optimizer`` (``pip install "fsrs[optimizer]"``: torch,
pandas), imported only inside ``fit_parameters`` so nothing else pays for it.

fsrs' optimizer silently returns the default parameters when it has fewer
than 512 usable reviews: those made a day or more after the card's previous
review, within the first 64 reviews of each card. ``optimizable_reviews``
counts them the same way before the optimizer is called, and
``check_enough`` refuses with the count (``NotEnoughReviews``, exit 1)
instead of pretending to have fitted something.

Log loss (mean binary cross-entropy of the predicted recall against "not
Again", over the same reviews the optimizer trains on) is computed here with
the plain scheduler, so before/after can be shown without torch. New
parameters are stored only when they lower the loss; cards keep their
current due dates and are scheduled with the new parameters from their next
rating on.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import ReviewLog
from tracker.errors import EnvironmentProblem, NotEnoughReviews

MIN_REVIEWS = 512  # fsrs.optimizer.mini_batch_size: below it the optimizer returns the defaults
MAX_SEQUENCE = 64  # fsrs.optimizer.max_seq_len: only a card's first 64 reviews train
_EPSILON = 1e-12


@dataclass(frozen=True)
class LoggedReview:
    card_id: int
    rating: int
    reviewed_at: datetime
    duration_ms: int | None = None


@dataclass(frozen=True)
class OptimizeResult:
    reviews_total: int
    reviews_used: int
    previous_parameters: tuple[float, ...]
    parameters: tuple[float, ...]
    loss_before: float
    loss_after: float
    custom_before: bool  # the learner had fitted parameters before this run
    stored: bool = False

    @property
    def improved(self) -> bool:
        return self.loss_after < self.loss_before

    def as_dict(self, *, dry_run: bool = False) -> dict[str, object]:
        return {
            "reviews": self.reviews_total,
            "reviews_used": self.reviews_used,
            "log_loss_before": self.loss_before,
            "log_loss_after": self.loss_after,
            "improved": self.improved,
            "stored": self.stored,
            "dry_run": dry_run,
            "parameters_before": list(self.previous_parameters),
            "parameters": list(self.parameters),
        }


def _histories(reviews: Iterable[LoggedReview]) -> dict[int, list[LoggedReview]]:
    by_card: dict[int, list[LoggedReview]] = defaultdict(list)
    for review in reviews:
        by_card[review.card_id].append(review)
    return {
        card: sorted(history, key=lambda r: r.reviewed_at)[:MAX_SEQUENCE]
        for card, history in sorted(by_card.items())
    }


def optimizable_reviews(reviews: Iterable[LoggedReview]) -> int:
    """Reviews the optimizer learns from: a day or more after the card's previous one."""
    return sum(
        1
        for history in _histories(reviews).values()
        for previous, current in zip(history, history[1:], strict=False)
        if (current.reviewed_at - previous.reviewed_at).days > 0
    )


def log_loss(reviews: Iterable[LoggedReview], parameters: Sequence[float]) -> float:
    """Mean log loss of the recall predicted with ``parameters`` (what the optimizer minimises)."""
    from fsrs import Card, Rating, Scheduler

    from tracker.scheduling import as_utc

    scheduler = Scheduler(parameters=parameters, enable_fuzzing=False)
    total, count = 0.0, 0
    for card_id, history in _histories(reviews).items():
        card = Card(card_id=card_id, due=as_utc(history[0].reviewed_at))
        for review in history:
            at = as_utc(review.reviewed_at)
            if card.last_review is not None and (at - card.last_review).days > 0:
                p = min(max(scheduler.get_card_retrievability(card, at), _EPSILON), 1 - _EPSILON)
                recalled = review.rating != Rating.Again
                total -= math.log(p) if recalled else math.log(1 - p)
                count += 1
            card, _ = scheduler.review_card(card, Rating(review.rating), review_datetime=at)
    return total / count if count else float("nan")


def fit_parameters(reviews: Sequence[LoggedReview]) -> tuple[float, ...]:
    """Run fsrs' optimizer (torch); callers check ``optimizable_reviews`` first."""
    from fsrs import Rating
    from fsrs import ReviewLog as FsrsReviewLog

    from tracker.scheduling import as_utc

    try:
        import pandas  # noqa: F401 - fsrs.optimizer swaps in a stub Optimizer without it
        import torch  # noqa: F401
        from fsrs.optimizer import Optimizer
    except ImportError as exc:
        raise EnvironmentProblem(
            f'the FSRS optimizer is not installed ({exc}): pip install "tracker[optimizer]"'
        ) from exc

    logs = [
        FsrsReviewLog(
            card_id=r.card_id,
            rating=Rating(r.rating),
            review_datetime=as_utc(r.reviewed_at),
            review_duration=r.duration_ms,
        )
        for r in reviews
    ]
    return tuple(float(p) for p in Optimizer(logs).compute_optimal_parameters())


def load_reviews(session: Session, *, learner_id: int) -> list[LoggedReview]:
    log = ReviewLog.__table__.c
    rows = session.execute(
        select(log.card_id, log.rating, log.reviewed_at, log.review_duration_ms)
        .where(log.learner_id == learner_id)
        .order_by(log.card_id, log.reviewed_at)
    )
    return [LoggedReview(card, rating, at, duration) for card, rating, at, duration in rows]


def check_enough(reviews: Sequence[LoggedReview]) -> int:
    """The usable review count, or NotEnoughReviews saying how many more are needed."""
    used = optimizable_reviews(reviews)
    if used < MIN_REVIEWS:
        raise NotEnoughReviews(
            f"optimize needs at least {MIN_REVIEWS} reviews made a day or more after the "
            f"card's previous review; you have {used} ({len(reviews)} reviews in all), "
            f"{MIN_REVIEWS - used} to go"
        )
    return used


def optimize_reviews(
    reviews: Sequence[LoggedReview], *, current: Sequence[float] | None
) -> OptimizeResult:
    """Fit on ``reviews`` and compare with ``current`` (None: the defaults)."""
    from tracker.scheduling import default_parameters

    used = check_enough(reviews)
    previous = tuple(current) if current is not None else default_parameters()
    fitted = fit_parameters(reviews)
    return OptimizeResult(
        reviews_total=len(reviews),
        reviews_used=used,
        previous_parameters=previous,
        parameters=fitted,
        loss_before=log_loss(reviews, previous),
        loss_after=log_loss(reviews, fitted),
        custom_before=current is not None,
    )
