"""tracker.scheduling: the fsrs wrapper (seeded fuzz, settings, parameters, row conversion)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import fsrs
import fsrs.scheduler
import pytest
from review_support import card_rows, log_rows, pass_lessons

from tracker.config import Settings, parse_value
from tracker.errors import ConfigError
from tracker.scheduling import (
    build_scheduler,
    card_from_row,
    fuzz_seed,
    load_parameters,
    replay,
    review,
    save_parameters,
    seeded_fuzz,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SETTINGS = Settings(timezone="UTC")
GOOD, AGAIN, EASY, HARD = 3, 1, 4, 2


def run(card_id: int, ratings: list[int], settings: Settings = SETTINGS) -> list[int]:
    """Review on each due date; the intervals in whole days."""
    scheduler = build_scheduler(settings)
    card = fsrs.Card(card_id=card_id, due=T0)
    intervals = []
    for reps, rating in enumerate(ratings):
        now = card.due
        card, _ = review(scheduler, card, rating, now=now, reps=reps)
        intervals.append((card.due - now).days)
    return intervals


def test_golden_intervals_with_seeded_fuzz() -> None:
    """Default parameters, retention 0.9, no steps: pinned so a change is noticed."""
    assert run(1, [GOOD] * 6) == [2, 13, 47, 164, 526, 1430]
    assert run(1, [GOOD, GOOD, GOOD, AGAIN, GOOD, GOOD]) == [2, 13, 47, 3, 10, 23]
    assert run(7, [EASY, HARD, GOOD]) == [10, 34, 97]


def test_the_same_history_gives_the_same_schedule() -> None:
    ratings = [GOOD, GOOD, HARD, GOOD, AGAIN, GOOD, EASY, GOOD]
    assert run(42, ratings) == run(42, ratings)


def test_fuzz_differs_between_cards() -> None:
    fourth = {run(card_id, [GOOD] * 4)[-1] for card_id in range(1, 60)}
    assert len(fourth) > 3  # fuzz spreads the same history over several days


def test_matches_plain_fsrs_with_the_same_seeded_random(monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler = build_scheduler(SETTINGS)
    plain = fsrs.Scheduler(enable_fuzzing=True, learning_steps=(), relearning_steps=())
    ours = theirs = fsrs.Card(card_id=5, due=T0)
    for reps, rating in enumerate([GOOD, GOOD, AGAIN, HARD, GOOD, EASY, GOOD]):
        now = ours.due
        ours, _ = review(scheduler, ours, rating, now=now, reps=reps)
        with monkeypatch.context() as patch:
            patch.setattr(fsrs.scheduler, "random", random.Random(f"5:{reps}").random)
            theirs, _ = plain.review_card(theirs, fsrs.Rating(rating), review_datetime=now)
        assert ours == theirs


def test_global_random_is_left_alone() -> None:
    random.seed(123)
    state = random.getstate()
    original = fsrs.scheduler.random
    run(3, [GOOD] * 5)
    assert random.getstate() == state
    assert fsrs.scheduler.random is original
    with pytest.raises(RuntimeError), seeded_fuzz("x"):
        raise RuntimeError
    assert fsrs.scheduler.random is original


def test_fuzz_seed_is_card_and_review_count() -> None:
    assert fuzz_seed(12, 0) == "12:0"
    assert fuzz_seed(1, 23) != fuzz_seed(12, 3)


def test_settings_shape_the_scheduler() -> None:
    settings = replace(
        SETTINGS,
        desired_retention=0.8,
        maximum_interval=30,
        learning_steps=parse_value("learning_steps", "10m, 1h"),
        relearning_steps=parse_value("relearning_steps", ["1d"]),
    )
    scheduler = build_scheduler(settings)
    assert scheduler.desired_retention == 0.8 and scheduler.maximum_interval == 30
    assert scheduler.learning_steps == (timedelta(minutes=10), timedelta(hours=1))
    assert scheduler.relearning_steps == (timedelta(days=1),)
    assert scheduler.enable_fuzzing is True
    assert max(run(2, [EASY] * 8, settings)) <= 30
    lower = run(2, [GOOD] * 5, replace(SETTINGS, desired_retention=0.8))
    assert lower[-1] > run(2, [GOOD] * 5)[-1]  # lower retention, longer intervals


def test_default_steps_are_none_so_a_rating_is_at_least_a_day() -> None:
    scheduler = build_scheduler(SETTINGS)
    assert scheduler.learning_steps == () and scheduler.relearning_steps == ()
    for rating in (AGAIN, HARD, GOOD, EASY):
        card, _ = review(scheduler, fsrs.Card(card_id=9, due=T0), rating, now=T0, reps=0)
        assert card.state == fsrs.State.Review and card.due - T0 >= timedelta(days=1)


@pytest.mark.parametrize(
    ("value", "message"),
    [("10", "bad step"), ("5s", "bad step"), ("0m", "bad step"), ("400d", "longer than a year")],
)
def test_bad_steps_are_refused(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_value("learning_steps", value)
    assert parse_value("learning_steps", "") == []
    assert parse_value("relearning_steps", "2H,1d") == ["2h", "1d"]


def test_fsrs_rejects_other_timezones_so_review_converts() -> None:
    scheduler = build_scheduler(SETTINGS)
    berlin = T0.astimezone(ZoneInfo("Europe/Berlin"))
    card, _ = review(scheduler, fsrs.Card(card_id=1, due=T0), GOOD, now=berlin, reps=0)
    assert card.last_review == T0 and card.last_review.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        review(scheduler, fsrs.Card(card_id=1, due=T0), GOOD, now=T0.replace(tzinfo=None), reps=0)


def test_parameters_are_stored_per_learner(store) -> None:  # noqa: ANN001
    fitted = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    fitted[0] = 0.5
    with store.write() as session:
        assert load_parameters(session, learner_id=store.learner_id) is None
        save_parameters(session, learner_id=store.learner_id, parameters=fitted, now=T0)
    with store.read() as session:
        assert load_parameters(session, learner_id=store.learner_id) == tuple(fitted)
        assert load_parameters(session, learner_id=store.learner_id + 1) is None
    assert build_scheduler(SETTINGS, fitted).parameters[0] == 0.5
    with store.write() as session, pytest.raises(ValueError, match="out of bounds"):
        save_parameters(session, learner_id=store.learner_id, parameters=[-1.0] * 21, now=T0)


def test_unreadable_or_bad_stored_parameters_say_what_to_do(store) -> None:  # noqa: ANN001
    from tracker.db.models import Setting

    with store.write() as session:
        session.add(
            Setting(learner_id=store.learner_id, key="fsrs_parameters", value="{", updated_at=T0)
        )
    with store.read() as session, pytest.raises(ConfigError, match="tracker optimize"):
        load_parameters(session, learner_id=store.learner_id)
    with pytest.raises(ConfigError, match="invalid FSRS parameters"):
        build_scheduler(SETTINGS, [1.0] * 3)


def test_a_row_round_trips_and_replay_rebuilds_it(store, monkeypatch, cli_run) -> None:  # noqa: ANN001
    """The card columns are a cache: replaying the ledger gives the same card."""
    monkeypatch.setenv("TRACKER_NOW", "2025-01-06T09:00")
    pass_lessons(store, ("transformer-1", "2025-01-06T09:00"))
    card_id = min(card_rows(store))
    for day, rating in [(0, "good"), (2, "good"), (13, "again"), (14, "hard"), (20, "easy")]:
        monkeypatch.setenv("TRACKER_NOW", (T0 + timedelta(days=day)).isoformat())
        assert cli_run("review", str(card_id), "--rating", rating).exit_code == 0
    from tracker.db.models import ReviewCard

    with store.read() as session:
        row = session.get(ReviewCard, card_id)
        card = card_from_row(row)
        created = row.created_at
    assert card.card_id == card_id and card.due.tzinfo is UTC
    ledger = [(rating, at) for cid, rating, at, _, _ in log_rows(store) if cid == card_id]
    rebuilt = replay(build_scheduler(SETTINGS), card_id=card_id, created_at=created, ratings=ledger)
    assert rebuilt == card
