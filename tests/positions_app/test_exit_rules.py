"""Forced closes and exit_rules limits at their boundaries (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from optionsengine.lib.market_calendar import MARKET_TZ
from positions_app.engines import exit_reasons as R
from positions_app.engines.exit_inputs import ExitRulesConfig, ExitSettings
from positions_app.engines.exit_rules import expiry_close_due, forced_exits, last_trading_day, rule_exits
from tests.positions_app.builders import NOW, D, quote, view


def ny(year, month, day, hour, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MARKET_TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("expiration", "moment", "due"),
    [
        # A regular Friday expiry: from 15:30 (30 min before the 16:00 close).
        (date(2026, 4, 17), ny(2026, 4, 17, 10, 0), False),
        (date(2026, 4, 17), ny(2026, 4, 17, 15, 29), False),
        (date(2026, 4, 17), ny(2026, 4, 17, 15, 30), True),
        (date(2026, 4, 17), ny(2026, 4, 17, 17, 0), True),  # after the close: still due (forced)
        (date(2026, 4, 17), ny(2026, 4, 16, 15, 45), False),  # the day before
        (date(2026, 4, 17), ny(2026, 4, 18, 9, 0), True),  # expired and still open: close at once
        # Early close (day after Thanksgiving 2026, 13:00): from 12:30.
        (date(2026, 11, 27), ny(2026, 11, 27, 12, 29), False),
        (date(2026, 11, 27), ny(2026, 11, 27, 12, 30), True),
        # Good Friday 2026-04-03 is a holiday: the contract last trades Thursday 04-02.
        (date(2026, 4, 3), ny(2026, 4, 2, 15, 29), False),
        (date(2026, 4, 3), ny(2026, 4, 2, 15, 30), True),
        (date(2026, 4, 3), ny(2026, 4, 1, 15, 45), False),
        # Christmas Day 2026 is a Friday holiday; Christmas Eve closes at 13:00.
        (date(2026, 12, 25), ny(2026, 12, 24, 12, 29), False),
        (date(2026, 12, 25), ny(2026, 12, 24, 12, 30), True),
        # Juneteenth 2026 (Friday) → Thursday 06-18 at the regular close.
        (date(2026, 6, 19), ny(2026, 6, 18, 15, 30), True),
        (date(2026, 6, 19), ny(2026, 6, 18, 15, 0), False),
    ],
)
def test_expiry_day_close_across_holidays_and_early_closes(expiration, moment, due):
    assert expiry_close_due(expiration, moment, 30) is due


def test_last_trading_day_rolls_back_over_holidays_and_weekends():
    assert last_trading_day(date(2026, 4, 3)) == date(2026, 4, 2)
    assert last_trading_day(date(2026, 4, 4)) == date(2026, 4, 2)  # a Saturday after Good Friday
    assert last_trading_day(date(2026, 4, 17)) == date(2026, 4, 17)


def test_expiry_day_close_is_forced_even_when_the_market_is_closed():
    position = view(expiration=date(2026, 3, 13))
    after_close = ny(2026, 3, 13, 18, 0)
    result = forced_exits(position, None, ExitSettings(), after_close, market_open=False)
    assert result.full == (R.EXPIRATION_DAY_CLOSE,)


def test_emergency_risk_off_forces_every_position_out():
    result = forced_exits(view(), quote(), ExitSettings(emergency_risk_off=True), NOW, market_open=False)
    assert result.full == (R.EMERGENCY_RISK_OFF,)


@pytest.mark.parametrize(
    ("age_seconds", "last_pnl", "market_open", "due"),
    [
        (181, "-10.01", True, True),
        (180, "-10.01", True, False),  # not older than the limit yet
        (181, "-10", True, False),  # not below −10 %
        (181, "-10.01", False, False),  # closed market: every quote is old
        (181, None, True, False),  # never marked: nothing says it is losing
    ],
)
def test_stale_price_force_close_without_a_quote(age_seconds, last_pnl, market_open, due):
    position = view(last_updated=NOW - timedelta(seconds=age_seconds), last_pnl_percent=None if last_pnl is None else D(last_pnl))
    result = forced_exits(position, None, ExitSettings(), NOW, market_open=market_open)
    assert (R.STALE_DATA_FORCE_CLOSE in result.full) is due


def test_stale_price_force_close_with_a_stale_last_known_quote():
    stale = quote("4.49", as_of=NOW - timedelta(seconds=200), stale=True)  # −10.2 %
    assert forced_exits(view(), stale, ExitSettings(), NOW, market_open=True).full == (R.STALE_DATA_FORCE_CLOSE,)
    fresh = quote("4.49", as_of=NOW - timedelta(seconds=200))
    assert forced_exits(view(), fresh, ExitSettings(), NOW, market_open=True).full == ()


RULES = ExitRulesConfig()


@pytest.mark.parametrize(
    ("mark", "codes"),
    [
        ("7.50", (R.PROFIT_TARGET,)),  # +50 %
        ("7.4995", ()),  # +49.99 %
        ("2.50", (R.STOP_LOSS,)),  # −50 %
        ("2.5005", ()),
    ],
)
def test_profit_target_and_stop_loss_boundaries(mark, codes):
    assert rule_exits(view(), mark=D(mark), stale=False, stop=None, rules=RULES, now=NOW).full == codes


@pytest.mark.parametrize(("held", "fires"), [(timedelta(hours=120), True), (timedelta(hours=120) - timedelta(minutes=1), False)])
def test_max_hold_time_boundary(held, fires):
    result = rule_exits(view(entry_timestamp=NOW - held), mark=D("5"), stale=False, stop=None, rules=RULES, now=NOW)
    assert (R.MAX_HOLD_TIME in result.full) is fires


@pytest.mark.parametrize(("days_left", "fires"), [(timedelta(days=1), True), (timedelta(days=1, seconds=1), False)])
def test_min_dte_exit_counts_to_16_00_new_york_on_the_expiry_date(days_left, fires):
    # 16:00 New York on 2026-03-16 is 20:00 UTC: exactly one day after 2026-03-15 20:00 UTC.
    moment = datetime(2026, 3, 16, 20, 0, tzinfo=UTC) - days_left
    result = rule_exits(view(expiration=date(2026, 3, 16), entry_timestamp=moment - timedelta(hours=1)),
                        mark=D("5"), stale=False, stop=None, rules=RULES, now=moment)
    assert (R.MIN_DTE_EXIT in result.full) is fires


@pytest.mark.parametrize(
    ("mark", "stop", "stale", "codes"),
    [
        ("5.50", "5.50", False, (R.TRAILING_STOP,)),
        ("5.5001", "5.50", False, ()),
        ("4.50", "4.00", False, ()),
        ("4.50", "4.00", True, (R.TRAILING_STOP, R.TRAILING_STOP_STALE)),  # stale: stop moves halfway to entry (4.50)
        ("4.5001", "4.00", True, ()),
    ],
)
def test_trailing_stop_breach(mark, stop, stale, codes):
    assert rule_exits(view(), mark=D(mark), stale=stale, stop=D(stop), rules=RULES, now=NOW).full == codes


def test_zero_limits_disable_their_rules():
    off = ExitRulesConfig(profit_target_percent=D(0), stop_loss_percent=D(0), max_hold_time_hours=0, min_dte_exit=0)
    position = view(entry_timestamp=NOW - timedelta(days=30), expiration=date(2026, 3, 13))
    assert rule_exits(position, mark=D("0.01"), stale=False, stop=None, rules=off, now=NOW).full == ()


def test_rules_report_every_limit_hit_in_order():
    position = view(entry_timestamp=NOW - timedelta(hours=200), expiration=date(2026, 3, 13))
    result = rule_exits(position, mark=D("1.00"), stale=False, stop=D("2.00"), rules=RULES, now=NOW)
    assert result.full == (R.STOP_LOSS, R.MAX_HOLD_TIME, R.MIN_DTE_EXIT, R.TRAILING_STOP)
