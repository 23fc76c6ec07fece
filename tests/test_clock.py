from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tracker.clock import Clock, parse_instant
from tracker.errors import ConfigError

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")


def test_tracker_now_with_offset_is_that_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10T09:30:00+09:00")
    now = Clock(tz=NEW_YORK).now()
    assert now == datetime(2025, 11, 10, 0, 30, tzinfo=UTC)
    assert now.tzinfo is UTC


def test_tracker_now_without_offset_means_configured_timezone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10T09:30:00")
    assert Clock(tz=SEOUL).now() == datetime(2025, 11, 10, 0, 30, tzinfo=UTC)
    assert Clock(tz=NEW_YORK).now() == datetime(2025, 11, 10, 14, 30, tzinfo=UTC)


def test_tracker_now_date_only_is_noon_of_that_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "2025-11-10")
    clock = Clock(tz=SEOUL)
    assert clock.today() == date(2025, 11, 10)
    assert clock.local_time(clock.now()).hour == 12


def test_invalid_tracker_now_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_NOW", "yesterday-ish")
    with pytest.raises(ConfigError, match="TRACKER_NOW"):
        Clock(tz=SEOUL).now()


def test_without_override_now_is_the_wall_clock() -> None:
    before = datetime.now(UTC)
    now = Clock(tz=SEOUL).now()
    assert before <= now <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2025-11-10T01:30", date(2025, 11, 9)),  # before the boundary: the day before
        ("2025-11-10T03:59", date(2025, 11, 9)),
        ("2025-11-10T04:00", date(2025, 11, 10)),
        ("2025-11-10T23:59", date(2025, 11, 10)),
    ],
)
def test_day_boundary_at_four(local: str, expected: date) -> None:
    clock = Clock(tz=SEOUL, day_starts_at=4)
    assert clock.local_day(parse_instant(local, SEOUL)) == expected


def test_midnight_boundary_is_the_calendar_day() -> None:
    clock = Clock(tz=SEOUL, day_starts_at=0)
    assert clock.local_day(parse_instant("2025-11-10T01:30", SEOUL)) == date(2025, 11, 10)


def test_day_bounds_span_a_normal_day() -> None:
    clock = Clock(tz=SEOUL, day_starts_at=4)
    start, end = clock.day_start(date(2025, 11, 10)), clock.day_end(date(2025, 11, 10))
    assert start == datetime(2025, 11, 9, 19, 0, tzinfo=UTC)  # 04:00 KST
    assert end - start == timedelta(hours=24)


def test_dst_spring_forward_day_is_23_hours_and_keeps_the_local_boundary() -> None:
    clock = Clock(tz=NEW_YORK, day_starts_at=4)
    # Clocks jump from 02:00 to 03:00 on 2025-03-09, inside the learner-day of the 8th.
    day = date(2025, 3, 8)
    assert clock.day_start(day) == datetime(2025, 3, 8, 9, 0, tzinfo=UTC)  # 04:00 EST
    assert clock.day_end(day) == datetime(2025, 3, 9, 8, 0, tzinfo=UTC)  # 04:00 EDT
    assert clock.day_end(day) - clock.day_start(day) == timedelta(hours=23)
    assert clock.local_day(datetime(2025, 3, 9, 7, 30, tzinfo=UTC)) == day  # 03:30 EDT
    assert clock.local_day(datetime(2025, 3, 9, 8, 0, tzinfo=UTC)) == date(2025, 3, 9)  # 04:00 EDT
    assert clock.day_end(date(2025, 3, 9)) - clock.day_start(date(2025, 3, 9)) == timedelta(
        hours=24
    )


def test_dst_fall_back_day_is_25_hours() -> None:
    clock = Clock(tz=NEW_YORK, day_starts_at=4)
    day = date(2025, 11, 1)  # clocks fall back from 02:00 to 01:00 on the 2nd
    assert clock.day_end(day) - clock.day_start(day) == timedelta(hours=25)
    # 01:30 happens twice that night; both belong to the learner-day of the 1st.
    first = datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert clock.local_day(first) == clock.local_day(second) == day


def test_local_day_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        Clock(tz=SEOUL).local_day(datetime(2025, 1, 1))


@pytest.mark.parametrize("value", ["9999-12-31T23:00:00-05:00", "0001-01-01T01:00:00+05:00"])
def test_tracker_now_out_of_range_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TRACKER_NOW", value)
    with pytest.raises(ConfigError, match="out of range"):
        Clock(tz=SEOUL).now()
