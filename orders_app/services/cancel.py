"""Operator cancellation of orders (the admin's "cancel order" action)."""

from __future__ import annotations

import uuid
from datetime import datetime

from optionsengine.lib.transactions import require_transaction
from orders_app.models import Order

CANCELLED_BY_OPERATOR = "cancelled_by_operator"


def cancel_order(*, order_id: uuid.UUID | str, now: datetime, reason: str = CANCELLED_BY_OPERATOR) -> bool:
    """Cancel one order if it is still `pending_execution`; True when it was cancelled.

    Requires the caller's transaction. A status-guarded UPDATE: an order an executor is filling
    (row locked on PostgreSQL) is waited for and then left alone, because it is no longer pending.
    Cancelling an exit order leaves its position as it is (`closing` for a full exit); the exit
    monitor's stuck-closing cleanup issues a new exit order if the position still has to close.
    """
    require_transaction()
    changed = Order.objects.filter(pk=order_id, status=Order.Status.PENDING_EXECUTION).update(
        status=Order.Status.CANCELLED, failure_reason=reason, updated_at=now,
    )
    return changed == 1
