"""A fixed two-week history for the report and export tests, recorded through the core.

Europe/Berlin, day boundary 04:00, three sessions a week, reminders at 08:30.
Every instant is explicit (no TRACKER_NOW, no wall clock), so the documents
built from it are the same on every run and snapshot tests can compare bytes.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from review_support import pass_lessons, write_config

from tracker.clock import parse_instant

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
NOW = "2025-11-14T20:00"  # the report's "now", Berlin time
ZONE = "Europe/Berlin"

# (when, lessons passed then); 01:30 on the 7th still belongs to the learner-day of the 6th.
PASSES = [
    ("2025-11-03T09:00", ["transformer-1", "attention-mechanism-1"]),
    ("2025-11-05T10:00", ["multi-head-attention-2"]),
    ("2025-11-06T21:00", ["positional-encoding-1"]),
    ("2025-11-07T01:30", ["scaling-laws-1"]),
    ("2025-11-14T09:30", ["flash-attention-3"]),
]
CHECKINS = ["2025-11-03T08:50", "2025-11-04T07:55", "2025-11-10T08:00", "2025-11-14T09:00"]
REVIEW_DAYS = ["2025-11-04T08:00", "2025-11-06T20:00", "2025-11-10T08:10", "2025-11-14T10:00"]


def at(text: str, store) -> datetime:  # noqa: ANN001
    return parse_instant(text, store.clock.tz)


def rate_everything_due(store, when: str) -> None:  # noqa: ANN001
    """Rate every due question card: Again for each third card, else Good."""
    from tracker.due import due_until
    from tracker.ledger import rate_card
    from tracker.reviews import list_due

    now = at(when, store)
    with store.write() as session:
        for card in list_due(
            session, learner_id=store.learner_id, until=due_until(store.clock, now)
        ):
            if card.kind != "question":
                continue
            rate_card(
                session,
                learner_id=store.learner_id,
                card_id=card.card,
                rating="again" if card.card % 3 == 0 else "good",
                now=now,
                settings=store.settings,
            )


def build_history(store) -> None:  # noqa: ANN001
    from tracker.usecases.checkin import checkin

    events: list[tuple[str, str, object]] = [(w, "pass", lessons) for w, lessons in PASSES]
    events += [(w, "checkin", None) for w in CHECKINS]
    events += [(w, "review", None) for w in REVIEW_DAYS]
    for when, kind, lessons in sorted(events, key=lambda e: at(e[0], store)):
        if kind == "pass":
            pass_lessons(store, *((lesson, when) for lesson in lessons))  # type: ignore[union-attr]
        elif kind == "checkin":
            checkin(store, learner_id=store.learner_id, now=at(when, store))
        else:
            rate_everything_due(store, when)


def history_store(tracker_env: Path) -> Iterator:  # Iterator[tracker.store.Store]
    """The body of a test module's ``history`` fixture: a store holding the history."""
    from tracker.store import open_store

    write_config(
        tracker_env / "config.toml", timezone=ZONE, sessions_per_week=3, reminder_time="08:30"
    )
    store = open_store()
    build_history(store)
    yield store
    store.close()


def assert_snapshot(name: str, data: bytes) -> None:
    """Compare with tests/snapshots/NAME; UPDATE_SNAPSHOTS=1 rewrites it (review the diff)."""
    path = SNAPSHOTS / name
    text = data.decode("utf-8")  # also proves the bytes are valid UTF-8
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") and not path.exists():
            pytest.fail(f"snapshot {name} is missing")
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_bytes(data)
        return
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"snapshots/{name}",
                tofile="now",
            )
        )
        pytest.fail(f"{name} differs from its snapshot (UPDATE_SNAPSHOTS=1 to accept):\n{diff}")
