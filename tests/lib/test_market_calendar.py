"""The NYSE calendar: holidays and early closes by rule, sessions, DST, next open/close."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from optionsengine.lib import market_calendar as cal
from optionsengine.lib.market_calendar import MARKET_TZ, Session

NYSE_2026 = {
    date(2026, 1, 1): "New Year's Day",
    date(2026, 1, 19): "Martin Luther King Jr. Day",
    date(2026, 2, 16): "Washington's Birthday",
    date(2026, 4, 3): "Good Friday",
    date(2026, 5, 25): "Memorial Day",
    date(2026, 6, 19): "Juneteenth",
    date(2026, 7, 3): "Independence Day",  # July 4 is a Saturday
    date(2026, 9, 7): "Labor Day",
    date(2026, 11, 26): "Thanksgiving Day",
    date(2026, 12, 25): "Christmas Day",
}
NYSE_2027 = {
    date(2027, 1, 1): "New Year's Day",
    date(2027, 1, 18): "Martin Luther King Jr. Day",
    date(2027, 2, 15): "Washington's Birthday",
    date(2027, 3, 26): "Good Friday",
    date(2027, 5, 31): "Memorial Day",
    date(2027, 6, 18): "Juneteenth",  # June 19 is a Saturday
    date(2027, 7, 5): "Independence Day",  # July 4 is a Sunday
    date(2027, 9, 6): "Labor Day",
    date(2027, 11, 25): "Thanksgiving Day",
    date(2027, 12, 24): "Christmas Day",  # December 25 is a Saturday
}


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MARKET_TZ)


@pytest.mark.parametrize(("year", "expected"), [(2026, NYSE_2026), (2027, NYSE_2027)])
def test_every_nyse_holiday_of_2026_and_2027_is_computed_by_rule(year, expected):
    assert cal.holidays(year) == expected


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2026, {date(2026, 11, 27), date(2026, 12, 24)}),  # July 3 is the observed holiday itself
        (2027, {date(2027, 11, 26)}),  # July 3 is a Saturday, Dec 24 the observed Christmas
        (2025, {date(2025, 7, 3), date(2025, 11, 28), date(2025, 12, 24)}),
        (2024, {date(2024, 7, 3), date(2024, 11, 29), date(2024, 12, 24)}),
    ],
)
def test_early_closes_are_july_3_black_friday_and_christmas_eve_when_trading_days(year, expected):
    assert set(cal.early_closes(year)) == expected
    for day in expected:
        assert cal.close_time(day) == time(13, 0)


def test_saturday_new_year_is_not_observed_on_the_friday_before():
    # 2028-01-01 is a Saturday: NYSE stays open on Friday 2027-12-31.
    assert cal.is_trading_day(date(2027, 12, 31))
    assert not any(day.month == 1 and day.day == 1 for day in cal.holidays(2028))


def test_juneteenth_only_from_2022():
    assert date(2021, 6, 18) not in cal.holidays(2021)
    assert date(2022, 6, 20) in cal.holidays(2022)  # Sunday → Monday


@pytest.mark.parametrize(
    ("year", "good_friday"),
    [(2024, date(2024, 3, 29)), (2025, date(2025, 4, 18)), (2028, date(2028, 4, 14)), (2035, date(2035, 3, 23))],
)
def test_good_friday_follows_easter_in_any_year(year, good_friday):
    assert cal.holidays(year)[good_friday] == "Good Friday"


@pytest.mark.parametrize(
    ("moment", "session"),
    [
        (ny(2026, 3, 13, 3, 59), Session.CLOSED),
        (ny(2026, 3, 13, 4, 0), Session.PRE),
        (ny(2026, 3, 13, 9, 29), Session.PRE),
        (ny(2026, 3, 13, 9, 30), Session.RTH),
        (ny(2026, 3, 13, 15, 59), Session.RTH),
        (ny(2026, 3, 13, 16, 0), Session.POST),
        (ny(2026, 3, 13, 19, 59), Session.POST),
        (ny(2026, 3, 13, 20, 0), Session.CLOSED),
        (ny(2026, 3, 14, 11, 0), Session.CLOSED),  # Saturday
        (ny(2026, 4, 3, 11, 0), Session.CLOSED),  # Good Friday
        (ny(2026, 11, 27, 12, 59), Session.RTH),  # half day
        (ny(2026, 11, 27, 13, 0), Session.POST),
        (ny(2026, 11, 27, 17, 0), Session.CLOSED),
    ],
)
def test_sessions_in_new_york_time(moment, session):
    assert cal.session_at(moment) is session
    assert cal.is_regular_hours(moment) == (session is Session.RTH)


def test_regular_hours_follow_daylight_saving_switches_in_utc():
    # 2026-03-06 (EST, UTC−5) opens 14:30 UTC; 2026-03-09 (EDT, UTC−4) opens 13:30 UTC.
    assert cal.regular_session(date(2026, 3, 6))[0] == datetime(2026, 3, 6, 14, 30, tzinfo=UTC)
    assert cal.regular_session(date(2026, 3, 9))[0] == datetime(2026, 3, 9, 13, 30, tzinfo=UTC)
    assert cal.is_regular_hours(datetime(2026, 3, 9, 13, 45, tzinfo=UTC))
    assert not cal.is_regular_hours(datetime(2026, 3, 6, 13, 45, tzinfo=UTC))
    # Autumn: 2026-11-02 is back on EST.
    assert cal.regular_session(date(2026, 10, 30))[1] == datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
    assert cal.regular_session(date(2026, 11, 2))[1] == datetime(2026, 11, 2, 21, 0, tzinfo=UTC)


def test_trading_day_bounds_span_the_new_york_day_across_dst():
    start, end = cal.trading_day_bounds(date(2026, 3, 8))  # the 23-hour spring-forward Sunday
    assert start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)


def test_sunday_evening_new_york_belongs_to_sunday_although_utc_is_monday():
    sunday_evening = ny(2026, 3, 8, 21, 0)
    assert sunday_evening.astimezone(UTC).date() == date(2026, 3, 9)
    assert cal.market_date(sunday_evening) == date(2026, 3, 8)
    assert cal.session_at(sunday_evening) is Session.CLOSED
    assert cal.next_open(sunday_evening) == ny(2026, 3, 9, 9, 30)


@pytest.mark.parametrize(
    ("now", "expected_open", "expected_close"),
    [
        (ny(2026, 3, 13, 8, 0), ny(2026, 3, 13, 9, 30), ny(2026, 3, 13, 16, 0)),
        (ny(2026, 3, 13, 10, 0), ny(2026, 3, 16, 9, 30), ny(2026, 3, 13, 16, 0)),
        (ny(2026, 3, 13, 17, 0), ny(2026, 3, 16, 9, 30), ny(2026, 3, 16, 16, 0)),
        (ny(2026, 4, 2, 17, 0), ny(2026, 4, 6, 9, 30), ny(2026, 4, 6, 16, 0)),  # over Good Friday
        (ny(2026, 11, 26, 12, 0), ny(2026, 11, 27, 9, 30), ny(2026, 11, 27, 13, 0)),  # Thanksgiving
        (ny(2026, 12, 31, 18, 0), ny(2027, 1, 4, 9, 30), ny(2027, 1, 4, 16, 0)),
    ],
)
def test_next_open_and_close(now, expected_open, expected_close):
    assert cal.next_open(now) == expected_open
    assert cal.next_close(now) == expected_close


def test_trading_day_neighbours_skip_weekends_and_holidays():
    assert cal.next_trading_day(date(2026, 7, 2)) == date(2026, 7, 6)
    assert cal.previous_trading_day(date(2026, 4, 6)) == date(2026, 4, 2)
