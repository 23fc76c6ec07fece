"""`tracker optimize`: the 512-review threshold, before/after log loss, storing, dry runs.

The real fsrs optimizer (torch) runs in the slow test; the others replace the
fit with a stand-in so the command's rules are checked in milliseconds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import fsrs
import pytest
from review_support import insert_reviews, synthetic_reviews

from tracker.errors import NotEnoughReviews
from tracker.optimizer import (
    MIN_REVIEWS,
    LoggedReview,
    log_loss,
    optimizable_reviews,
    optimize_reviews,
)

T0 = datetime(2024, 5, 1, 9, tzinfo=UTC)
DEFAULTS = tuple(fsrs.scheduler.DEFAULT_PARAMETERS)


@pytest.fixture(scope="module")
def enough() -> list[LoggedReview]:
    reviews = synthetic_reviews(80, seed=3)
    assert optimizable_reviews(reviews) >= MIN_REVIEWS
    return reviews


def fitted_stand_in(reviews) -> tuple[float, ...]:  # noqa: ANN001
    better = list(DEFAULTS)
    better[0:4] = [1.0, 2.0, 3.0, 6.0]  # the synthetic learner's true parameters
    better[8] = 1.3
    return tuple(better)


def test_only_reviews_a_day_or_more_apart_count() -> None:
    day = timedelta(days=1)
    reviews = [
        LoggedReview(1, 3, T0),  # a card's first review never counts
        LoggedReview(1, 3, T0 + timedelta(hours=23, minutes=59)),  # same day
        LoggedReview(1, 3, T0 + day + timedelta(hours=23, minutes=59)),  # 24h after: counts
        LoggedReview(1, 1, T0 + 3 * day),  # counts
        LoggedReview(2, 3, T0 + 5 * day),
        LoggedReview(2, 3, T0),  # order does not matter
    ]
    assert optimizable_reviews(reviews) == 3
    assert optimizable_reviews([]) == 0


def test_only_a_cards_first_64_reviews_count() -> None:
    history = [LoggedReview(1, 3, T0 + timedelta(days=i)) for i in range(100)]
    assert optimizable_reviews(history) == 63


def test_refusal_below_512_says_how_many(store) -> None:  # noqa: ANN001
    # 40 cards x 14 daily reviews = 520 usable; drop a few cards to fall short
    reviews = [LoggedReview(c, 3, T0 + timedelta(days=d)) for c in range(1, 37) for d in range(15)]
    # plus more reviews the same day as an earlier one: many logs, none usable
    last = T0 + timedelta(days=14)
    reviews += [LoggedReview(c, 3, last + timedelta(hours=h)) for c in range(1, 31) for h in (1, 2)]
    reviews += [LoggedReview(99, 3, T0 + timedelta(minutes=m)) for m in range(240)]
    used = optimizable_reviews(reviews)
    assert used == 36 * 14 == 504
    with pytest.raises(NotEnoughReviews) as raised:
        optimize_reviews(reviews, current=None)
    assert str(raised.value) == (
        "optimize needs at least 512 reviews made a day or more after the card's previous "
        f"review; you have 504 ({len(reviews)} reviews in all), 8 to go"
    )
    assert raised.value.exit_code == 1


def test_cli_refuses_with_exit_1_and_stores_nothing(store, cli_run) -> None:  # noqa: ANN001
    result = cli_run("optimize")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: optimize needs at least 512 reviews made a day or more after the card's "
        "previous review; you have 0 (0 reviews in all), 512 to go\n"
    )
    reviews = [LoggedReview(c, 3, T0 + timedelta(days=d)) for c in range(1, 11) for d in range(30)]
    insert_reviews(store, reviews)
    result = cli_run("optimize", "--dry-run")
    assert result.exit_code == 1 and "you have 290 (300 reviews in all), 222 to go" in result.stderr
    from tracker.scheduling import load_parameters

    with store.read() as session:
        assert load_parameters(session, learner_id=store.learner_id) is None


def test_log_loss_is_lower_for_the_true_parameters(enough) -> None:  # noqa: ANN001
    before, after = log_loss(enough, DEFAULTS), log_loss(enough, fitted_stand_in(enough))
    assert 0 < after < before < 1


def test_optimize_stores_better_parameters(store, cli_run, monkeypatch, enough) -> None:  # noqa: ANN001
    import tracker.optimizer as optimizer
    from tracker.scheduling import load_parameters

    monkeypatch.setattr(optimizer, "fit_parameters", fitted_stand_in)
    insert_reviews(store, enough)
    result = cli_run("optimize", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    used = optimizable_reviews(enough)
    assert lines[0] == f"{used} usable reviews ({len(enough)} in all)"
    assert lines[1] == f"log loss before: {log_loss(enough, DEFAULTS):.4f} (the defaults)"
    assert lines[2] == f"log loss after:  {log_loss(enough, fitted_stand_in(enough)):.4f} (fitted)"
    assert lines[-1] == "dry run: nothing stored"
    with store.read() as session:
        assert load_parameters(session, learner_id=store.learner_id) is None

    result = cli_run("optimize", "--json")
    doc = json.loads(result.stdout)
    assert doc["stored"] is True and doc["improved"] is True and doc["dry_run"] is False
    assert doc["log_loss_after"] < doc["log_loss_before"]
    assert doc["parameters_before"] == list(DEFAULTS)
    with store.read() as session:
        stored = load_parameters(session, learner_id=store.learner_id)
    assert stored == fitted_stand_in(enough)

    # a second run compares with the stored parameters and finds nothing better
    result = cli_run("optimize")
    assert result.exit_code == 0
    assert "(your parameters)" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "not stored: the fitted parameters do not predict your reviews better than your parameters"
    )


def test_worse_parameters_are_not_stored(store, cli_run, monkeypatch, enough) -> None:  # noqa: ANN001
    import tracker.optimizer as optimizer
    from tracker.scheduling import load_parameters

    worse = list(DEFAULTS)
    worse[0:4] = [0.01, 0.01, 0.01, 0.01]  # forgets everything overnight
    monkeypatch.setattr(optimizer, "fit_parameters", lambda reviews: tuple(worse))
    insert_reviews(store, enough)
    result = cli_run("optimize")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        "not stored: the fitted parameters do not predict your reviews better than the defaults"
    )
    with store.read() as session:
        assert load_parameters(session, learner_id=store.learner_id) is None


def test_stored_parameters_schedule_the_next_rating(store, monkeypatch, enough) -> None:  # noqa: ANN001
    import tracker.optimizer as optimizer
    from tracker.db.models import ReviewCard
    from tracker.ledger import rate_card

    monkeypatch.setattr(optimizer, "fit_parameters", fitted_stand_in)
    insert_reviews(store, enough)
    from tracker.usecases.optimize import optimize

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert optimize(store, learner_id=store.learner_id, now=now).result.stored
    with store.write() as session:
        card = session.get(ReviewCard, 1)
        card.state, card.step, card.stability, card.difficulty, card.last_review = (
            1,
            0,
            None,
            None,
            None,
        )
        result = rate_card(
            session, learner_id=store.learner_id, card_id=1, rating="good", now=T0,
            settings=store.settings,
        )  # fmt: skip
        assert session.get(ReviewCard, 1).stability == fitted_stand_in(enough)[2]
    assert result.due > T0


def test_a_missing_optimizer_is_an_environment_problem(store, cli_run, monkeypatch, enough) -> None:  # noqa: ANN001
    import sys

    insert_reviews(store, enough)
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    result = cli_run("optimize")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: the FSRS optimizer is not installed")
    assert 'pip install "tracker[optimizer]"' in result.stderr


@pytest.mark.slow
def test_a_real_fit_on_a_few_thousand_reviews(store, cli_run) -> None:  # noqa: ANN001
    """fsrs' optimizer on ~3,000 synthetic reviews (about 20 s on a laptop core)."""
    from fsrs.optimizer import Optimizer

    from tracker.scheduling import load_parameters

    reviews = synthetic_reviews(300, seed=11)
    assert 2500 < len(reviews) < 4000
    insert_reviews(store, reviews)
    result = cli_run("optimize", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["stored"] is True and doc["log_loss_after"] < doc["log_loss_before"]
    fitted = tuple(doc["parameters"])
    assert fitted != DEFAULTS
    with store.read() as session:
        assert load_parameters(session, learner_id=store.learner_id) == fitted
    # our loss is the one fsrs' optimizer minimises
    fsrs_logs = [
        fsrs.ReviewLog(r.card_id, fsrs.Rating(r.rating), r.reviewed_at, r.duration_ms)
        for r in reviews
    ]
    theirs = Optimizer(fsrs_logs)._compute_batch_loss(parameters=list(fitted))
    assert doc["log_loss_after"] == pytest.approx(theirs, rel=1e-9)
