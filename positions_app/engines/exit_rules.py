"""Forced closes (layer 1) and the `exit_rules` limits (layer 4), pure (SPEC §10).

Forced closes are the only exits evaluated while the option market is closed:
- `emergency_risk_off` — the operator's kill switch;
- `expiration_day_close` — from `expiry_close_lead_minutes` before the regular-session close of the
  contract's last trading day (13:00 on early-close days; an expiry falling on a holiday trades
  last on the trading day before), and at any moment after it, so an expired position is never
  left open;
- `stale_data_force_close` — during regular hours only (outside them every quote is old by
  nature): no fresh quote for longer than `stale_force_close_seconds` while the last known P&L %
  is below `stale_force_close_loss_percent`.

The `exit_rules` limits are enforced whatever the other layers said; a limit of 0 disables it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from optionsengine.lib import market_calendar
from positions_app.engines import exit_reasons as R
from positions_app.engines.exit_inputs import (
    ExitRulesConfig,
    ExitSettings,
    LayerResult,
    PositionView,
    QuoteView,
    days_to_expiry,
    minutes_between,
)
from positions_app.engines.pnl import pnl_percent
from positions_app.engines.trailing import breached


def last_trading_day(expiration: date) -> date:
    """The day the contract last trades: the expiration, or the trading day before a holiday."""
    if market_calendar.is_trading_day(expiration):
        return expiration
    return market_calendar.previous_trading_day(expiration)


def expiry_close_due(expiration: date, now: datetime, lead_minutes: int) -> bool:
    last_day = last_trading_day(expiration)
    today = market_calendar.market_date(now)
    if today != last_day:
        return today > last_day
    session = market_calendar.regular_session(last_day)
    assert session is not None  # last_day is a trading day by construction
    return now >= session[1] - timedelta(minutes=lead_minutes)


def stale_force_close_due(
    position: PositionView, quote: QuoteView | None, settings: ExitSettings, now: datetime
) -> bool:
    if quote is not None and not quote.stale:
        return False
    seen_at = quote.as_of if quote is not None else (position.last_updated or position.entry_timestamp)
    if (now - seen_at).total_seconds() <= settings.stale_force_close_seconds:
        return False
    if quote is not None:
        last_pnl = pnl_percent(position.entry_price, quote.mark)
    elif position.last_pnl_percent is not None:
        last_pnl = position.last_pnl_percent
    else:
        return False  # never marked: nothing says the position is losing
    return last_pnl < settings.stale_force_close_loss_percent


def forced_exits(
    position: PositionView, quote: QuoteView | None, settings: ExitSettings, now: datetime, *, market_open: bool
) -> LayerResult:
    codes: list[str] = []
    if settings.emergency_risk_off:
        codes.append(R.EMERGENCY_RISK_OFF)
    if expiry_close_due(position.expiration, now, settings.expiry_close_lead_minutes):
        codes.append(R.EXPIRATION_DAY_CLOSE)
    if market_open and stale_force_close_due(position, quote, settings, now):
        codes.append(R.STALE_DATA_FORCE_CLOSE)
    return LayerResult(full=tuple(codes))


def rule_exits(
    position: PositionView,
    *,
    mark: Decimal,
    stale: bool,
    stop: Decimal | None,
    rules: ExitRulesConfig,
    now: datetime,
) -> LayerResult:
    """Profit target, stop loss, max hold, min DTE and the trailing stop (after this cycle's
    adjustments), in that order."""
    pnl = pnl_percent(position.entry_price, mark)
    codes: list[str] = []
    details: list[str] = []
    if rules.profit_target_percent > 0 and pnl >= rules.profit_target_percent:
        codes.append(R.PROFIT_TARGET)
        details.append(f"P&L {pnl}% ≥ target {rules.profit_target_percent}%")
    if rules.stop_loss_percent > 0 and pnl <= -abs(rules.stop_loss_percent):
        codes.append(R.STOP_LOSS)
        details.append(f"P&L {pnl}% ≤ stop −{abs(rules.stop_loss_percent)}%")
    held_hours = minutes_between(position.entry_timestamp, now) / 60
    if rules.max_hold_time_hours > 0 and held_hours >= rules.max_hold_time_hours:
        codes.append(R.MAX_HOLD_TIME)
        details.append(f"held {held_hours:.2f} h ≥ {rules.max_hold_time_hours} h")
    dte = days_to_expiry(now, position.expiration)
    if rules.min_dte_exit > 0 and dte <= rules.min_dte_exit:
        codes.append(R.MIN_DTE_EXIT)
        details.append(f"{dte:.2f} days to expiry ≤ {rules.min_dte_exit}")
    if breached(mark=mark, stop=stop, entry_price=position.entry_price, stale=stale):
        # SPEC §10: a breach is `trailing_stop`; a stale mark adds its own code after it.
        codes.extend((R.TRAILING_STOP, R.TRAILING_STOP_STALE) if stale else (R.TRAILING_STOP,))
        details.append(f"mark {mark} ≤ trailing stop {stop}{' (stale mark)' if stale else ''}")
    return LayerResult(full=tuple(codes), details=tuple(details))
