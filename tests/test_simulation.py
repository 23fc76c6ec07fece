"""A learner lives through 120 days of reviews with TRACKER_NOW, through the core and the CLI.

Each learner-day is looked at three times: 09:00, 23:30, and 02:30 the next
calendar day (still the same learner-day with the 04:00 boundary). Ratings
happen at one of the three, through the core, `tracker review CARD --rating`
or an interactive `tracker review` session. Checked on every rating and
every look:

- the card matches what a plain ``fsrs.Scheduler`` gives for the same inputs,
  with the fuzz drawn from ``random.Random("<card id>:<reviews before>")``;
- intervals grow after Good/Easy and shrink after Again;
- a card rated in a learner-day is never listed again that learner-day, and
  the list is exactly the cards due before the day's end, oldest first;
- the learner-day and its end follow the configured timezone across a DST
  change (Berlin springs forward on 2025-03-30, New York falls back on
  2025-11-02).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import fsrs
import fsrs.scheduler
import pytest
from review_support import card_rows, due_json, log_rows, pass_lessons, write_config

from tracker.clock import parse_instant

DAYS = 120
LOOKS = ("09:00", "23:30", "02:30")  # the last is the next calendar day
WEIGHTS = {1: 10, 2: 10, 3: 65, 4: 15}  # again, hard, good, easy
LATER_LESSONS = {0: ["transformer-1", "attention-mechanism-1"], 9: ["scaling-laws-1"],
                 40: ["rlhf-1", "positional-encoding-2"], 75: ["alignment-1"],
                 100: ["bert-architecture-1"]}  # fmt: skip


def look_instant(day: date, look: str, tz: ZoneInfo) -> str:
    calendar = day + timedelta(days=1) if look == "02:30" else day
    return f"{calendar.isoformat()}T{look}"


class Mirror:
    """The same cards scheduled by a plain fsrs.Scheduler, fuzz seeded by hand."""

    def __init__(self) -> None:
        self.scheduler = fsrs.Scheduler(learning_steps=(), relearning_steps=())
        self.cards: dict[int, fsrs.Card] = {}
        self.reps: Counter[int] = Counter()

    def add(self, card_id: int, created: datetime) -> None:
        self.cards.setdefault(card_id, fsrs.Card(card_id=card_id, due=created))

    def rate(self, card_id: int, rating: int, now: datetime, monkeypatch) -> fsrs.Card:  # noqa: ANN001
        seed = f"{card_id}:{self.reps[card_id]}"
        with monkeypatch.context() as patch:
            patch.setattr(fsrs.scheduler, "random", random.Random(seed).random)
            card, _ = self.scheduler.review_card(
                self.cards[card_id], fsrs.Rating(rating), review_datetime=now.astimezone(UTC)
            )
        self.cards[card_id] = card
        self.reps[card_id] += 1
        return card


def simulate(  # noqa: C901
    tz_name: str,
    start: date,
    monkeypatch,  # noqa: ANN001
    cli_run,  # noqa: ANN001
    tracker_env,  # noqa: ANN001
    lessons_on: dict[date, list[str]] | None = None,
) -> dict:
    from tracker.due import due_until
    from tracker.ledger import rate_card, rate_code_submission
    from tracker.reviews import list_due
    from tracker.store import open_store

    write_config(tracker_env / "config.toml", timezone=tz_name)
    tz = ZoneInfo(tz_name)
    rng = random.Random(2025)
    mirror = Mirror()
    rated_on: dict[date, set[int]] = defaultdict(set)
    growth: dict[str, list[tuple[float, float]]] = defaultdict(list)
    ways: Counter[str] = Counter()
    store = open_store()
    try:
        clock = store.clock
        for offset in range(DAYS):
            day = start + timedelta(days=offset)
            rate_at = LOOKS[offset % 3]
            for look in LOOKS:
                when = look_instant(day, look, tz)
                monkeypatch.setenv("TRACKER_NOW", when)
                now = parse_instant(when, tz)
                assert clock.local_day(now) == day
                if look == "09:00":
                    extra = (lessons_on or {}).get(day, [])
                    for lesson in LATER_LESSONS.get(offset, []) + extra:
                        pass_lessons(store, (lesson, when))
                    for cid, row in card_rows(store).items():
                        mirror.add(cid, row["due"])
                # what is due: via the CLI at 09:00, via the core otherwise
                if look == "09:00":
                    listed = [(i["card"], i["kind"], i["due"]) for i in due_json(cli_run)]
                    listed = [(c, k, datetime.fromisoformat(d)) for c, k, d in listed]
                else:
                    with store.read() as session:
                        listed = [
                            (i.card, i.kind, i.due)
                            for i in list_due(
                                session,
                                learner_id=store.learner_id,
                                until=due_until(clock, now),
                            )
                        ]
                end = clock.day_end(day)
                rows = card_rows(store)
                expected = sorted((r["due"], c) for c, r in rows.items() if r["due"] < end)
                assert [(d, c) for c, _, d in listed] == expected
                assert not {c for c, _, _ in listed} & rated_on[day], (day, look)
                if look != rate_at or not listed:
                    continue

                questions = [c for c, kind, _ in listed if kind == "question"]
                ratings = {c: rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
                           for c in questions}  # fmt: skip
                before = card_rows(store)
                if offset % 7 == 3:
                    ways["session"] += 1
                    answers = "".join(f"\n{ratings[c]}\n" for c in questions)
                    result = cli_run("review", input=answers)
                    assert result.exit_code == 0, result.output
                    assert f"Rated {len(questions)} of {len(listed)}." in result.output
                else:
                    for c in questions:
                        if offset % 4 == 1:
                            ways["cli"] += 1
                            names = {1: "again", 2: "2", 3: "good", 4: "4"}
                            result = cli_run("review", str(c), "--rating", names[ratings[c]])
                            assert result.exit_code == 0, result.output
                            assert "early" not in result.output
                        else:
                            ways["core"] += 1
                            with store.write() as session:
                                outcome = rate_card(
                                    session,
                                    learner_id=store.learner_id,
                                    card_id=c,
                                    rating=ratings[c],
                                    now=now,
                                    settings=store.settings,
                                )
                            assert outcome.early is False and outcome.local_date == day
                for c, kind, _ in listed:
                    if kind == "code":
                        passed = rng.random() < 0.8
                        with store.write() as session:
                            outcome = rate_code_submission(
                                session,
                                learner_id=store.learner_id,
                                lesson_id=before[c]["lesson"],
                                passed=passed,
                                now=now,
                                settings=store.settings,
                                submission_id=None,
                            )
                        ratings[c] = {"again": 1, "hard": 2, "good": 3}[outcome.rating]
                        ways["code"] += 1
                after = card_rows(store)
                for c, rating in ratings.items():
                    rated_on[day].add(c)
                    mine, old = after[c], before[c]
                    theirs = mirror.rate(c, rating, now, monkeypatch)
                    assert (mine["due"], mine["stability"], mine["difficulty"]) == (
                        theirs.due,
                        theirs.stability,
                        theirs.difficulty,
                    )
                    assert (mine["state"], mine["step"], mine["last_review"]) == (
                        int(theirs.state),
                        theirs.step,
                        theirs.last_review,
                    )
                    assert mine["reps"] == old["reps"] + 1
                    assert clock.local_day(mine["due"]) > day  # never back the same day
                    if old["state"] == 2:
                        previous = (old["due"] - old["last_review"]) / timedelta(days=1)
                        new = (mine["due"] - mine["last_review"]) / timedelta(days=1)
                        elapsed = (now - old["last_review"]) / timedelta(days=1)
                        growth[fsrs.Rating(rating).name].append(
                            (previous, new, elapsed, old["stability"], mine["stability"])
                        )
        logs = log_rows(store)
        return {
            "growth": growth,
            "ways": ways,
            "logs": logs,
            "cards": card_rows(store),
            "rated_on": rated_on,
        }
    finally:
        store.close()


@pytest.mark.parametrize(
    ("tz_name", "start", "dst_day"),
    [
        ("Europe/Berlin", date(2025, 2, 20), date(2025, 3, 30)),
        ("America/New_York", date(2025, 9, 20), date(2025, 11, 2)),
    ],
)
def test_120_days_of_reviews(
    tz_name: str,
    start: date,
    dst_day: date,
    monkeypatch: pytest.MonkeyPatch,
    cli_run,  # noqa: ANN001
    tracker_env,  # noqa: ANN001
) -> None:
    assert start < dst_day < start + timedelta(days=DAYS)
    new_on_dst_day = {dst_day: ["multi-head-attention-1"]}
    result = simulate(tz_name, start, monkeypatch, cli_run, tracker_env, new_on_dst_day)
    growth, ways, logs = result["growth"], result["ways"], result["logs"]
    assert min(ways.values()) > 0 and len(ways) == 4, ways  # core, CLI, session, code card
    assert len(logs) > 120

    # (previous interval, new interval, days since the last review, stability before, after)
    # of review-state cards. Less than a day after the last review fsrs uses its
    # short-term model; a day or more, a pass always raises the stability.
    for name in ("Good", "Easy"):
        growth_of = growth[name]
        assert len([g for g in growth_of if g[2] >= 1]) > 10
        assert all(new >= previous for previous, new, *_ in growth_of), name
        assert all(s1 > s0 for _, _, elapsed, s0, s1 in growth_of if elapsed >= 1), name
        grew = [new > previous for previous, new, elapsed, *_ in growth_of if elapsed >= 1]
        assert sum(grew) >= 0.8 * len(grew), name  # the rest: fuzz or a tiny stability
    again = growth["Again"]
    assert len(again) > 5
    assert all(new <= previous for previous, new, *_ in again)
    assert all(new < previous for previous, new, *_ in again if previous >= 2)
    assert all(s1 < s0 for *_, s0, s1 in again)
    longest = max((r["due"] - r["last_review"]).days for r in result["cards"].values())
    assert longest > 30  # a well-known card is pushed out by months

    # ratings logged at 02:30 belong to the learner-day before
    tz = ZoneInfo(tz_name)
    for _card, _rating, at, local_date, _ in logs:
        local = at.astimezone(tz)
        expected = local.date() - timedelta(days=1) if local.hour < 4 else local.date()
        assert local_date == expected
    assert any(at.astimezone(tz).hour == 2 for _, _, at, _, _ in logs)
    assert any(local_date == dst_day for *_, local_date, _ in logs)


def test_the_same_history_gives_the_same_schedule(monkeypatch, cli_run, tracker_env) -> None:  # noqa: ANN001
    first = simulate("Europe/Berlin", date(2025, 3, 20), monkeypatch, cli_run, tracker_env)
    (tracker_env / "tracker.db").unlink()
    for suffix in ("-wal", "-shm"):
        (tracker_env / f"tracker.db{suffix}").unlink(missing_ok=True)
    second = simulate("Europe/Berlin", date(2025, 3, 20), monkeypatch, cli_run, tracker_env)
    assert first["logs"] == second["logs"] and first["cards"] == second["cards"]


@pytest.mark.parametrize(
    ("tz_name", "day", "inside", "outside"),
    [
        # Berlin springs forward at 02:00 on 30 March: the day ends at 04:00 CEST = 02:00 UTC
        ("Europe/Berlin", date(2025, 3, 29), "2025-03-30T01:45Z", "2025-03-30T02:15Z"),
        # New York falls back at 02:00 on 2 November: the day ends at 04:00 EST = 09:00 UTC
        ("America/New_York", date(2025, 11, 1), "2025-11-02T08:45Z", "2025-11-02T09:15Z"),
    ],
)
def test_the_day_boundary_follows_dst(
    tz_name: str,
    day: date,
    inside: str,
    outside: str,
    monkeypatch: pytest.MonkeyPatch,
    cli_run,  # noqa: ANN001
    tracker_env,  # noqa: ANN001
) -> None:
    """A fixed UTC offset taken before the change would get these wrong by an hour."""
    from tracker.db.models import ReviewCard
    from tracker.store import open_store

    write_config(tracker_env / "config.toml", timezone=tz_name)
    monkeypatch.setenv("TRACKER_NOW", f"{day.isoformat()}T20:00")
    store = open_store()
    try:
        pass_lessons(store, ("transformer-1", f"{day.isoformat()}T20:00"))
        a, b, c = sorted(card_rows(store))
        with store.write() as session:
            session.get(ReviewCard, a).due = datetime.fromisoformat(inside)
            session.get(ReviewCard, b).due = datetime.fromisoformat(outside)
            session.get(ReviewCard, c).due = datetime.fromisoformat(outside) + timedelta(days=2)
        assert store.clock.local_day(datetime.fromisoformat(inside)) == day
        assert store.clock.local_day(datetime.fromisoformat(outside)) == day + timedelta(days=1)
        assert [i["card"] for i in due_json(cli_run)] == [a]
        # an hour before the boundary, in local wall-clock time, it is still the same day
        monkeypatch.setenv("TRACKER_NOW", f"{(day + timedelta(days=1)).isoformat()}T03:30")
        assert [i["card"] for i in due_json(cli_run)] == [a]
        result = cli_run("review", str(a), "--rating", "good", "--json")
        assert result.exit_code == 0 and '"date": "' + day.isoformat() in result.output
        assert due_json(cli_run) == []
        monkeypatch.setenv("TRACKER_NOW", f"{(day + timedelta(days=1)).isoformat()}T04:00")
        assert [i["card"] for i in due_json(cli_run)] == [b]
    finally:
        store.close()
