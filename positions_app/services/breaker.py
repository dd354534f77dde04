"""The drawdown circuit breaker's one row (SPEC §6 gate `drawdown_circuit_breaker`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from optionsengine.lib.transactions import require_transaction
from positions_app.models import CircuitBreakerState


def trip_breaker(*, freeze_until: datetime, drawdown_pct: Decimal, now: datetime) -> None:
    """Freeze new entries until `freeze_until`; persisted so the freeze survives restarts."""
    require_transaction()
    CircuitBreakerState.objects.update_or_create(
        pk=1, defaults={"freeze_until": freeze_until, "triggered_at": now, "drawdown_pct": drawdown_pct, "updated_at": now}
    )
