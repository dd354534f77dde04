"""Realtime events (SPEC §13): the one place `position_update` and `risk_update` are emitted.

`publish(event_type, payload)` is what every stage calls (the executor on every fill, the
position refresher and the exit monitor on their updates), on commit. Until the realtime
transport (`/api/stream`, Redis fan-out) exists it logs the event and counts it in an in-process
counter that tests and `/metrics` read (`published_counts()`).

Payload fields follow reference execution §3.5. Decimals are sent as strings (lossless, the same
as the REST API) and times as ISO-8601 UTC. `risk_update.realized_pnl` is the realized P&L of
non-test exit fills in the current New York trading day, labelled `realized_pnl_scope: "today"`
(reference §10 item 8: the original's lifetime sum was unlabelled, and summing every position
ever would make each event cost a full table scan). Every figure is read through an index:
open positions by status, today's fills by fill time.

The executor publishes one `position_update` per fill (on commit) and one `risk_update` after
the fills of a sweep (the portfolio after all of them; three queries, not three per fill).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Sum

from optionsengine.lib import money
from optionsengine.lib.money import CONTRACT_MULTIPLIER

logger = logging.getLogger(__name__)

POSITION_UPDATE = "position_update"
RISK_UPDATE = "risk_update"
EVENT_TYPES = frozenset({POSITION_UPDATE, RISK_UPDATE})

_counts: Counter = Counter()
_counts_lock = threading.Lock()


def publish(event_type: str, payload: dict) -> None:
    """Emit one event. Never raises for a delivery problem: a fill must not fail because of it."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    with _counts_lock:
        _counts[event_type] += 1
    logger.info("event %s %s", event_type, payload.get("id", ""))
    from optionsengine.observability import broadcast  # the transport: /api/stream (Redis fan-out when configured)

    broadcast.send(event_type, payload)  # best effort: logs and counts a failure, never raises


def published_counts() -> dict[str, int]:
    with _counts_lock:
        return dict(_counts)


def reset_counts() -> None:
    with _counts_lock:
        _counts.clear()


def _text(value) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def position_payload(position) -> dict:
    """`position_update` data for a `positions_app.Position` (no query)."""
    return {
        "id": str(position.position_id),
        "symbol": position.symbol,
        "option_symbol": position.option_symbol,
        "type": position.type,
        "strike": _text(position.strike),
        "expiry": position.expiration.isoformat(),
        "qty": position.quantity,
        "entry_price": _text(position.entry_price),
        "exit_price": _text(position.exit_price),
        "current_price": _text(position.current_price),
        "unrealized_pnl": _text(position.unrealized_pnl),
        "realized_pnl": _text(position.realized_pnl),
        "pnl_percent": _text(position.position_pnl_percent),
        "status": position.status,
        "entry_time": _iso(position.entry_timestamp),
        "exit_time": _iso(position.exit_timestamp),
        "updated_at": _iso(position.last_updated),
    }


def risk_payload(now: datetime) -> dict:
    """`risk_update` data: open positions and P&L of non-test trading, and the active limits (3 queries)."""
    from orders_app.selectors import get_active_risk_limit
    from positions_app.models import Position
    from positions_app.selectors import OPEN_STATUSES, get_realized_pnl_today

    totals = Position.objects.filter(
        status__in=OPEN_STATUSES, is_test=False,
    ).aggregate(
        open_positions=Count("pk"),
        unrealized=Sum("unrealized_pnl"),
        exposure=Sum(F("entry_price") * F("quantity") * CONTRACT_MULTIPLIER, output_field=DecimalField()),
    )
    today = get_realized_pnl_today(now)
    limits = get_active_risk_limit()
    return {
        "timestamp": now.isoformat(),
        "open_positions": totals["open_positions"],
        "max_open_positions": limits.max_open_positions if limits else None,
        "max_positions_per_symbol": limits.max_positions_per_symbol if limits else None,
        "max_position_size": limits.max_position_size if limits else None,
        "max_total_exposure": None,  # no absolute exposure limit exists; see max_exposure_percent
        "max_exposure_percent": _text(limits.max_exposure_percent) if limits else None,
        "total_exposure": _text(money.cash(totals["exposure"] or Decimal(0))),
        "unrealized_pnl": _text(money.cash(totals["unrealized"] or Decimal(0))),
        "realized_pnl": _text(money.cash(today or Decimal(0))),
        "realized_pnl_scope": "today",
    }


def publish_position(position) -> None:
    """A position changed (call on commit). Best effort: logged, never raised."""
    try:
        publish(POSITION_UPDATE, position_payload(position))
    except Exception:
        logger.exception("could not publish position_update for %s", position.position_id)


def publish_risk(now: datetime) -> None:
    """The portfolio changed (call after commit). Best effort: logged, never raised."""
    try:
        publish(RISK_UPDATE, risk_payload(now))
    except Exception:
        logger.exception("could not publish risk_update")


def publish_positions(positions, now: datetime) -> None:
    """Several positions changed in one commit (call after it): one `position_update` each, then one
    `risk_update`. Best effort, like the two functions above."""
    for position in positions:
        publish_position(position)
    publish_risk(now)
