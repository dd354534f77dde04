"""Filtered list reads for the operator API: one queryset per endpoint, newest first, with the
joins its serializer needs (no per-row queries)."""

from __future__ import annotations

from datetime import datetime

from orders_app.models import Order, Trade
from positions_app.models import Position
from signals_app.models import Signal


def _window(queryset, field: str, since: datetime | None, until: datetime | None):
    if since is not None:
        queryset = queryset.filter(**{f"{field}__gte": since})
    if until is not None:
        queryset = queryset.filter(**{f"{field}__lt": until})
    return queryset


def _equal(queryset, **filters):
    return queryset.filter(**{k: v for k, v in filters.items() if v is not None})


def list_signals(*, status=None, symbol=None, reason=None, is_test=None, since=None, until=None):
    """`reason` is a prefix of `rejection_reason` (`portfolio_guard_block` matches every rule)."""
    rows = _equal(Signal.objects.all(), status=status, symbol=symbol, is_test=is_test)
    if reason:
        rows = rows.filter(rejection_reason__startswith=reason)
    return _window(rows, "created_at", since, until).order_by("-created_at", "signal_id")


def get_signal(signal_id) -> Signal | None:
    return Signal.objects.select_related("refactored").filter(pk=signal_id).first()


def list_orders(*, status=None, symbol=None, engine=None, side=None, is_test=None, signal_id=None, since=None,
                until=None):
    rows = _equal(Order.objects.all(), status=status, symbol=symbol, engine=engine, side=side, is_test=is_test,
                  signal_id=signal_id)
    return _window(rows, "created_at", since, until).order_by("-created_at", "order_id")


def list_trades(*, symbol=None, engine=None, side=None, is_test=None, since=None, until=None):
    rows = _equal(Trade.objects.select_related("order"), order__symbol=symbol, engine=engine, order__side=side,
                  is_test=is_test)
    return _window(rows, "fill_timestamp", since, until).order_by("-fill_timestamp", "trade_id")


def list_positions(*, status=None, symbol=None, engine=None, is_test=None, since=None, until=None):
    rows = _equal(Position.objects.all(), status=status, symbol=symbol, engine=engine, is_test=is_test)
    return _window(rows, "entry_timestamp", since, until).order_by("-entry_timestamp", "position_id")
