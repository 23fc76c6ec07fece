"""tracker.render: the message catalogue, bars, the post's Markdown rules, a self-contained page."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from report_support import NOW, at, history_store

from tracker.render.messages import CATALOGUE, Messages, messages
from tracker.render.post import _yaml_text, demote_headings
from tracker.render.report_html import heat_levels, render_html
from tracker.render.report_md import bar
from tracker.reports.document import build_report


@pytest.fixture
def history(tracker_env: Path):  # noqa: ANN201 - a tracker.store.Store
    yield from history_store(tracker_env)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_every_label_with_the_same_placeholders() -> None:
    def base(key: str) -> str:
        return key.removesuffix(".one").removesuffix(".other")

    en, ko = CATALOGUE["en"], CATALOGUE["ko"]
    assert {base(k) for k in en} == {base(k) for k in ko}
    for key, text in ko.items():
        english = en.get(key) or en[base(key) + ".other"]
        assert _fields(text) == _fields(english), key
    # Headings a Korean reader sees are Korean.
    assert re.search("[가-힣]", ko["post.focus"]) and re.search("[가-힣]", ko["report.title"])


def test_plural_forms() -> None:
    en, ko = messages("en"), messages("ko")
    assert (en.days(1), en.days(2), ko.days(1)) == ("1 day", "2 days", "1일")
    assert en.count("cell.reviews", 1) == "1 review" and ko.count("cell.reviews", 3) == "복습 3회"
    with pytest.raises(ValueError):
        Messages("fr")


@pytest.mark.parametrize(
    ("fraction", "cells"),
    [(0, 0), (0.01, 1), (0.4, 4), (2 / 7, 3), (0.96, 9), (1, 10), (1.5, 10)],
)
def test_ten_cell_bar(fraction: float, cells: int) -> None:
    text = bar(fraction)
    assert len(text) == 10 and text == "█" * cells + "░" * (10 - cells)


def test_lesson_headings_move_down_outside_code_fences() -> None:
    source = (
        "# Title\n\n## What it is\nText\n```python\n# a comment, not a heading\n```\n### Deeper\n"
    )
    assert demote_headings(source) == (
        "### What it is\nText\n```python\n# a comment, not a heading\n```\n#### Deeper"
    )


def test_front_matter_titles_are_quoted() -> None:
    assert _yaml_text("Flash attention: tiles") == "'Flash attention: tiles'"
    assert _yaml_text("It's #1") == "'It''s #1'"


def test_heat_levels_are_relative_to_the_learners_busy_days() -> None:
    assert heat_levels([0, 0]) == [0, 0]
    # 90th percentile of active days is the top: one outlier does not wash the rest out.
    values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100]
    levels = heat_levels(values)
    assert levels[0] == 0 and levels[-1] == 4 and levels[1] == 1
    assert levels[5] == 2 and levels[10] == 4


def test_html_is_self_contained_byte_stable_and_localised(history) -> None:  # noqa: ANN001
    def page(lang: str) -> bytes:
        doc = build_report(
            history,
            learner_id=history.learner_id,
            now=at(NOW, history),
            clock=history.clock,
            lang=lang,
            sessions_per_week=3,
        )
        return render_html(doc)

    english = page("en")
    assert english == page("en")  # the same history gives the same bytes
    text = english.decode("utf-8")
    assert "<script" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in text and " src=" not in text and "@import" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert text.count('<rect class="cell') == 365
    assert "prefers-color-scheme: dark" in text and "@media print" in text
    korean = page("ko").decode("utf-8")
    assert korean.startswith('<!doctype html>\n<html lang="ko">')
    assert "학습 달력, 최근 365일" in korean and "Study calendar" not in korean


def test_ics_in_utc_and_a_zone_without_dst(history) -> None:  # noqa: ANN001
    from icalendar import Calendar

    from tracker.clock import Clock
    from tracker.render.ics import render_ics
    from tracker.reports.exports import build_calendar

    for zone in ("UTC", "Asia/Seoul"):
        from zoneinfo import ZoneInfo

        clock = Clock(tz=ZoneInfo(zone), day_starts_at=4)
        doc = build_calendar(
            history,
            learner_id=history.learner_id,
            now=datetime(2025, 11, 14, 12, tzinfo=UTC),
            clock=clock,
            days=10,
            reminder_time="07:15",
        )
        calendar = Calendar.from_ical(render_ics(doc))
        assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == [zone]
        starts = {e.decoded("dtstart") for e in calendar.walk("VEVENT")}
        assert starts and all(s.tzinfo is not None for s in starts)
        assert min(s.date() for s in starts) == date(2025, 11, 14)
