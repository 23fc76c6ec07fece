"""What a reminder says: the pure builder, from plain values (no database, no clock)."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.reminders.content import (
    CodeCard,
    FocusFacts,
    ReminderFacts,
    build_reminder,
    why_nothing,
)

DAY = date(2026, 3, 10)  # a Tuesday
FOCUS = FocusFacts(
    lesson="multi-head-attention-2",
    concept="multi-head-attention",
    depth=2,
    title="Multi-head attention",
    reason="next on the main path",
    next_step=(
        "tracker learn multi-head-attention-2, then tracker submit multi-head-attention-2 FILE"
    ),
)
CODE = CodeCard(card=7, lesson="attention-mechanism-1", title="Scaled dot-product attention")


def facts(**changes: object) -> ReminderFacts:
    values: dict[str, object] = {
        "date": DAY,
        "due_reviews": 0,
        "code_cards": (),
        "focus": FOCUS,
        "streak_days": 0,
        "streak_before_today": 0,
        "checked_in_today": False,
    }
    values.update(changes)
    return ReminderFacts(**values)  # type: ignore[arg-type]


def test_the_daily_reminder_lists_reviews_code_cards_apart_focus_and_streak() -> None:
    reminder = build_reminder(
        "daily", facts(due_reviews=3, code_cards=(CODE,), streak_before_today=4)
    )
    assert reminder is not None
    assert reminder.subject == "tracker: 3 reviews, 1 code card; today: multi-head-attention-2"
    assert reminder.text.splitlines() == [
        "tracker, Tuesday 2026-03-10",
        "Reviews due today: 3 cards: run `tracker review`",
        "Code cards due (1): write each again from a blank file, then",
        "  - Scaled dot-product attention: `tracker submit attention-mechanism-1 FILE --review`",
        "Today's focus: Multi-head attention (multi-head-attention-2, depth 2)",
        "  why: next on the main path",
        "  then: tracker learn multi-head-attention-2, then tracker submit "
        "multi-head-attention-2 FILE",
        "Streak: 4 days so far; not checked in yet today: run `tracker checkin`",
    ]
    document = reminder.as_dict()
    assert document["due_code_cards"] == [
        {
            "card": 7,
            "lesson": "attention-mechanism-1",
            "title": "Scaled dot-product attention",
            "command": "tracker submit attention-mechanism-1 FILE --review",
        }
    ]
    assert document["focus"]["reason"] == "next on the main path"
    assert (document["due_reviews"], document["checked_in_today"]) == (3, False)


def test_nothing_to_do_means_no_daily_reminder() -> None:
    quiet = facts(checked_in_today=True, streak_days=3)
    assert build_reminder("daily", quiet) is None
    assert why_nothing("daily", quiet) == "nothing to do: checked in and no reviews due"


def test_checked_in_with_reviews_due_still_gets_the_daily_reminder() -> None:
    reminder = build_reminder("daily", facts(checked_in_today=True, streak_days=2, due_reviews=1))
    assert reminder is not None
    assert reminder.subject == "tracker: 1 review; today: multi-head-attention-2"
    assert reminder.lines[-1] == "Streak: 2 days; checked in today"


def test_not_checked_in_and_nothing_due_is_a_nudge_to_check_in() -> None:
    reminder = build_reminder("daily", facts(focus=None))
    assert reminder is not None
    assert reminder.subject == "tracker: time to check in"
    assert "Today's focus: none left: every lesson on your path is passed" in reminder.lines


@pytest.mark.parametrize(
    ("changes", "sent"),
    [
        ({"streak_before_today": 2}, True),
        ({"streak_before_today": 9, "due_reviews": 2}, True),
        ({"streak_before_today": 1}, False),  # a one-day streak is not worth a nag
        ({"streak_before_today": 5, "checked_in_today": True, "streak_days": 6}, False),
        ({"streak_before_today": 5, "streak_days": 6}, False),  # studied today: safe
    ],
)
def test_the_streak_reminder_goes_out_only_while_a_streak_is_at_risk(
    changes: dict[str, object], sent: bool
) -> None:
    reminder = build_reminder("streak", facts(**changes))
    assert (reminder is not None) is sent
    if reminder is not None:
        run = changes["streak_before_today"]
        assert reminder.subject == f"tracker: your {run}-day streak ends tonight"
        assert reminder.lines[1] == (
            f"Your {run}-day streak ends tonight unless you check in: run `tracker checkin`"
        )


def test_why_nothing_explains_a_skipped_streak_reminder() -> None:
    assert why_nothing("streak", facts(streak_days=3, streak_before_today=2)) == (
        "streak safe: already active today"
    )
    assert why_nothing("streak", facts(streak_before_today=1)) == (
        "no streak at risk (1 day before today)"
    )


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown reminder kind 'weekly'"):
        build_reminder("weekly", facts())
