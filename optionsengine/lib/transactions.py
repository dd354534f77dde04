"""Transaction intent helpers (style-anchors §3.4): entry points open, services require."""

from __future__ import annotations

from django.db import connection, transaction


def entry_point_transaction():
    """The one durable transaction an entry point (view, task, command step) opens per unit of work."""
    return transaction.atomic(durable=True)


def require_transaction() -> None:
    """Services that write call this first: they never open a transaction of their own."""
    if not connection.in_atomic_block:
        raise RuntimeError("this service must run inside the caller's transaction")
