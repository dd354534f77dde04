"""Reads of the signals tables for other stages."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef

from orders_app.models import Order
from signals_app.models import Signal, WebhookEvent

_TERMINAL_ORDER = (Order.Status.FILLED, Order.Status.FAILED, Order.Status.EXPIRED, Order.Status.CANCELLED)


def list_pending_entry_symbols(*, since: datetime) -> list[str]:
    """Symbols of approved real (non-test) signals since `since` whose entry order has not reached a
    final state yet (none created, or pending): positions on their way. One indexed query."""
    settled = Order.objects.filter(signal=OuterRef("pk"), side=Order.Side.ENTRY, status__in=_TERMINAL_ORDER)
    return list(
        Signal.objects.filter(status=Signal.Status.APPROVED, is_test=False, created_at__gte=since)
        .exclude(Exists(settled))
        .values_list("symbol", flat=True)
    )


def recorded_webhook_outcome(event_id) -> dict | None:
    """The committed audit row of one webhook request (status, signal_id, is_test, test_session_id), or None."""
    return (
        WebhookEvent.objects.filter(pk=event_id)
        .values("status", "signal_id", "is_test", "test_session_id")
        .first()
    )
