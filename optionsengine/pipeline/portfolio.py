"""The portfolio snapshot the orchestrator decides against: open positions, approved entries on
their way to a fill, today's P&L, limits and the drawdown breaker.

Loaded once per claimed batch (six reads, each independent of table size: open positions are
bounded by the risk limits, pending entries by a time window); the sweep adds its own approvals
as it goes, so a batch cannot approve past a position cap.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from orders_app.selectors import get_active_risk_limit
from positions_app.selectors import get_breaker_frozen_until, get_daily_pnl, list_open_positions
from signals_app.engines.snapshot import OpenPosition, Portfolio, RiskLimits
from signals_app.selectors import list_pending_entry_symbols

# With every risk_limits row disabled nothing caps the book, and one contract is the only size
# that is not a guess (0 would mean "no limit" for the caps, which is what the operator chose).
NO_LIMITS = RiskLimits(max_position_size=1, max_positions_per_symbol=0, max_open_positions=0, max_daily_loss=0,
                       max_daily_trades=0)


def load_limits() -> RiskLimits:
    row = get_active_risk_limit()
    if row is None:
        return NO_LIMITS
    return RiskLimits(
        max_position_size=row.max_position_size, max_positions_per_symbol=row.max_positions_per_symbol,
        max_open_positions=row.max_open_positions, max_daily_loss=row.max_daily_loss,
        max_daily_trades=row.max_daily_trades,
    )


def load_portfolio(now: datetime) -> Portfolio:
    positions = tuple(
        OpenPosition(
            symbol=p.symbol, type=p.type, quantity=p.quantity, entry_price=p.entry_price,
            current_price=p.current_price, unrealized_pnl=p.unrealized_pnl, expiration=p.expiration,
            entry_timestamp=p.entry_timestamp, greeks_at_entry=p.greeks_at_entry, is_test=p.is_test,
        )
        for p in list_open_positions()
    )
    return Portfolio(
        positions=positions, daily_pnl=get_daily_pnl(now), limits=load_limits(),
        breaker_frozen_until=get_breaker_frozen_until(),
        pending_entries=tuple(list_pending_entry_symbols(since=now - _pending_window())),
    )


def _pending_window() -> timedelta:
    """An approval older than this has its order settled or its signal rejected by the order creator."""
    return timedelta(minutes=settings.SIGNAL_MAX_AGE_MINUTES + settings.ORDER_EXPIRATION_MINUTES)
