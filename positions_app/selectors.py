"""Reads of the positions tables for other stages (the orchestrator's portfolio snapshot).

Each function is one query whatever the table size: open positions are few by construction
(risk limits), and closed ones are only read through indexed date ranges.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from optionsengine.lib import market_calendar
from orders_app.models import Order, Trade
from positions_app.models import CircuitBreakerState, ExitRule, Position

OPEN_STATUSES = (Position.Status.OPEN, Position.Status.CLOSING)


def list_open_positions(*, include_test: bool = False):
    """Open and closing positions (test traffic excluded unless asked), oldest first."""
    qs = Position.objects.filter(status__in=OPEN_STATUSES).order_by("entry_timestamp")
    return qs if include_test else qs.filter(is_test=False)


def get_realized_pnl_today(now: datetime) -> Decimal:
    """USD realized by exit fills of real (non-test) trading in the New York trading day of `now`."""
    start, end = market_calendar.trading_day_bounds(market_calendar.market_date(now))
    return Trade.objects.filter(
        fill_timestamp__gte=start, fill_timestamp__lt=end, is_test=False, order__side=Order.Side.EXIT,
    ).aggregate(total=Sum("realized_pnl"))["total"] or Decimal(0)


def get_daily_pnl(now: datetime) -> Decimal:
    """USD P&L of the New York trading day: exit fills realized today + unrealized of open positions.

    Test traffic is excluded so a test session never trips the daily loss cap of real trading.
    """
    realized = get_realized_pnl_today(now)
    unrealized = list_open_positions().aggregate(total=Sum("unrealized_pnl"))["total"] or Decimal(0)
    return realized + unrealized


def get_breaker_frozen_until() -> datetime | None:
    return CircuitBreakerState.objects.filter(pk=1).values_list("freeze_until", flat=True).first()


def get_active_exit_rule() -> ExitRule | None:
    """The newest enabled exit_rules row (SPEC §2)."""
    return ExitRule.objects.filter(enabled=True).order_by("-created_at").first()
