"""Rows for pipeline tests: signals, bias states, open positions — explicit defaults, keyword overrides."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import transaction

from bias_app.engines.seed import seed_payload
from bias_app.engines.staleness import now_ms
from bias_app.models import BiasStateCurrent
from bias_app.services.ingest import ingest_bias_payload
from orders_app.models import Order
from positions_app.models import Position
from signals_app.models import Signal

# Friday 2026-03-13 11:00 New York: regular hours, away from the open/close timing windows.
NOW = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)


def make_signal(*, symbol="SPY", direction="long", timeframe="15m", at: datetime = NOW, **fields) -> Signal:
    timestamp = fields.pop("timestamp", at)
    payload = fields.pop("raw_payload", {"symbol": symbol, "direction": direction, "timeframe": timeframe,
                                         "confidence": 80})
    signal_hash = hashlib.sha256(f"{symbol}:{direction}:{timeframe}:{timestamp.isoformat()}".encode()).hexdigest()
    return Signal.objects.create(
        symbol=symbol, direction=direction, timeframe=timeframe, timestamp=timestamp, raw_payload=payload,
        signal_hash=signal_hash, created_at=fields.pop("created_at", at), **fields,
    )


def seed_bias(symbol="SPY", bias="BULLISH", *, at: datetime = NOW, changes: dict | None = None) -> dict:
    """A fresh V3 bias state written through the real bias service (as `manage.py seed_bias` does)."""
    stored = BiasStateCurrent.objects.filter(symbol=symbol).values_list("updated_at_ms", flat=True).first()
    payload = seed_payload(symbol, bias, event_ts_ms=max(now_ms(at), (stored or 0) + 1), session="RTH")
    for path, value in (changes or {}).items():
        *parents, leaf = path.split(".")
        node = payload
        for part in parents:
            node = node[part]
        node[leaf] = value
    with transaction.atomic():
        outcome = ingest_bias_payload(payload=payload, kind="bias_v3", received_at=at)
    assert outcome.http_status == 200, outcome.body
    return outcome.state


def open_position(*, symbol="SPY", type="call", quantity=1, entry_price=Decimal("2.0000"), at: datetime = NOW,
                  expiration: date | None = None, **fields) -> Position:
    """An open position with its (filled) entry order, as the paper executor would leave it."""
    expiration = expiration or (at + timedelta(days=30)).date()
    strike = fields.pop("strike", Decimal("600"))
    order = Order.objects.create(
        side=Order.Side.ENTRY, symbol=symbol, option_symbol=f"{symbol}-{uuid.uuid4().hex[:8]}",
        occ_symbol="X", strike=strike, expiration=expiration, type=type, quantity=quantity,
        status=Order.Status.FILLED, created_at=at, updated_at=at,
    )
    return Position.objects.create(
        entry_order=order, symbol=symbol, option_symbol=order.option_symbol, occ_symbol="X", strike=strike,
        expiration=expiration, type=type, quantity=quantity, initial_quantity=quantity, entry_price=entry_price,
        entry_timestamp=at, last_updated=at, created_at=at, **fields,
    )


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
