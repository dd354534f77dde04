"""Listed expirations, expiration and strike choice, and option symbols."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from optionsengine.lib import market_calendar
from optionsengine.lib.market_calendar import MARKET_TZ
from optionsengine.lib.option_contracts import (
    OptionRight,
    choose_expiration,
    choose_strike,
    days_to_expiry,
    expiry_moment,
    listed_expirations,
    monthly_expiration,
    occ_symbol,
    option_symbol,
    parse_occ_symbol,
    parse_option_symbol,
    weekly_expiration,
)

CALL, PUT = OptionRight.CALL, OptionRight.PUT


@pytest.mark.parametrize(
    ("today", "dte", "expected"),
    [
        # The reference's table (DTE 5), now on New York dates and "on or after" everywhere.
        (date(2026, 3, 2), 5, date(2026, 3, 13)),
        (date(2026, 3, 4), 5, date(2026, 3, 13)),
        (date(2026, 3, 6), 5, date(2026, 3, 13)),
        (date(2026, 3, 8), 5, date(2026, 3, 13)),  # Sunday + 5 = Friday itself is kept
        (date(2026, 3, 13), 0, date(2026, 3, 13)),  # 0 DTE on an expiry Friday
        (date(2026, 3, 27), 5, date(2026, 4, 2)),  # Good Friday 2026-04-03 → Thursday
        (date(2027, 3, 19), 5, date(2027, 3, 25)),  # Good Friday 2027-03-26 → Thursday
        (date(2026, 6, 15), 2, date(2026, 6, 18)),  # Juneteenth Friday → Thursday
        (date(2026, 6, 29), 3, date(2026, 7, 2)),  # Independence Day observed Friday 07-03
    ],
)
def test_expiration_is_first_listed_expiry_on_or_after_today_plus_dte(today, dte, expected):
    assert choose_expiration(today, dte) == expected


def test_good_friday_expiry_lands_on_the_thursday_trading_day():
    expiry = weekly_expiration(date(2026, 3, 30))
    assert expiry == date(2026, 4, 2)
    assert market_calendar.is_trading_day(expiry)


def test_sunday_evening_new_york_order_uses_the_new_york_date_not_utc():
    sunday_evening = datetime(2026, 3, 8, 21, 0, tzinfo=MARKET_TZ)  # already Monday in UTC
    today = market_calendar.market_date(sunday_evening)
    assert choose_expiration(today, 5) == date(2026, 3, 13)
    utc_today = sunday_evening.astimezone(UTC).date()
    assert choose_expiration(utc_today, 5) == date(2026, 3, 20)  # what the old UTC rule picked


def test_expiration_from_a_chain_listing_and_monthly_only_rule():
    listed = [date(2026, 3, 20), date(2026, 4, 17), date(2026, 5, 15)]
    assert choose_expiration(date(2026, 3, 16), 7, listed=listed) == date(2026, 4, 17)
    with pytest.raises(ValueError):
        choose_expiration(date(2026, 5, 16), 0, listed=listed)
    assert choose_expiration(date(2026, 3, 16), 7, weeklies=False) == date(2026, 4, 17)


def test_listed_expirations_hold_weeklies_and_monthlies():
    listed = listed_expirations(date(2026, 3, 30), date(2026, 4, 30))
    assert listed == [date(2026, 4, 2), date(2026, 4, 10), date(2026, 4, 17), date(2026, 4, 24)]
    assert listed_expirations(date(2026, 3, 30), date(2026, 4, 30), weeklies=False) == [date(2026, 4, 17)]
    assert monthly_expiration(2026, 6) == date(2026, 6, 18)  # third Friday is Juneteenth


def test_dte_counts_to_four_pm_new_york_on_the_expiry_date():
    assert expiry_moment(date(2026, 3, 13)) == datetime(2026, 3, 13, 20, 0, tzinfo=UTC)  # EDT
    assert expiry_moment(date(2026, 1, 16)) == datetime(2026, 1, 16, 21, 0, tzinfo=UTC)  # EST
    morning = datetime(2026, 3, 13, 9, 30, tzinfo=MARKET_TZ)
    assert days_to_expiry(morning, date(2026, 3, 13)) == pytest.approx(6.5 / 24)
    assert days_to_expiry(datetime(2026, 3, 13, 16, 1, tzinfo=MARKET_TZ), date(2026, 3, 13)) == 0


@pytest.mark.parametrize(
    ("spot", "right", "increment", "expected"),
    [
        ("601.20", CALL, "1", "602"),
        ("601.20", PUT, "1", "601"),
        ("602", CALL, "1", "602"),
        ("602", PUT, "1", "602"),
        ("601.20", CALL, "0.5", "601.5"),
        ("601.70", PUT, "0.5", "601.5"),
        ("231.10", CALL, "2.5", "232.5"),
        ("231.10", PUT, "2.5", "230"),
        ("651.00", CALL, "5", "655"),
    ],
)
def test_strike_by_side_and_increment(spot, right, increment, expected):
    assert choose_strike(Decimal(spot), right, increment=Decimal(increment)) == Decimal(expected)


def test_strike_from_listed_strikes_falls_back_to_the_nearest_listed_when_none_qualify():
    listed = [Decimal(k) for k in ("595", "600", "605")]
    assert choose_strike(Decimal("601"), CALL, listed=listed) == Decimal("605")
    assert choose_strike(Decimal("601"), PUT, listed=listed) == Decimal("600")
    assert choose_strike(Decimal("610"), CALL, listed=listed) == Decimal("605")
    assert choose_strike(Decimal("590"), PUT, listed=listed) == Decimal("595")


def test_strike_without_increment_uses_the_default_spacing_for_the_price():
    assert choose_strike(Decimal("12.30"), CALL) == Decimal("12.5")
    assert choose_strike(Decimal("601.20"), PUT) == Decimal("600")


@pytest.mark.parametrize(
    ("strike", "internal", "occ"),
    [
        ("602", "SPY-20260313-C-602", "SPY260313C00602000"),
        ("602.00", "SPY-20260313-C-602", "SPY260313C00602000"),
        ("601.5", "SPY-20260313-C-601.5", "SPY260313C00601500"),
    ],
)
def test_option_symbols(strike, internal, occ):
    assert option_symbol("SPY", date(2026, 3, 13), CALL, Decimal(strike)) == internal
    assert occ_symbol("SPY", date(2026, 3, 13), CALL, Decimal(strike)) == occ
    assert parse_occ_symbol(occ) == ("SPY", date(2026, 3, 13), CALL, Decimal(strike))
    assert parse_option_symbol(internal) == ("SPY", date(2026, 3, 13), CALL, Decimal(strike))


def test_put_symbol_and_polygon_prefix():
    assert option_symbol("SPY", date(2026, 3, 13), PUT, Decimal("601.5")) == "SPY-20260313-P-601.5"
    assert parse_occ_symbol("O:SPY260313P00601500") == ("SPY", date(2026, 3, 13), PUT, Decimal("601.5"))
    with pytest.raises(ValueError):
        parse_occ_symbol("SPY-20260313-P-601.5")


def test_direction_maps_to_right():
    assert OptionRight.for_direction("long") is CALL
    assert OptionRight.for_direction("short") is PUT
