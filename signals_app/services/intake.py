"""Writes of the ingestion stage: the signal (or its duplicate verdict) and the audit row.

These sit on the webhook hot path, so they use fixed SQL (see optionsengine.lib.rawsql) instead of
building ORM queries per request. Each requires the caller's transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from optionsengine.lib.rawsql import insert_row, prep
from optionsengine.lib.transactions import require_transaction
from signals_app.engines.normalize import NormalizedSignal
from signals_app.models import Signal, WebhookEvent

_DUPLICATE_SQL = (
    "SELECT signal_id FROM signals WHERE symbol = %s AND direction = %s AND timeframe = %s"
    " AND is_test = %s AND created_at > %s ORDER BY created_at DESC LIMIT 1"
)
# A transaction-scoped advisory lock per dedup key: concurrent identical alerts queue here, so
# the check-then-insert below is atomic across processes (released at COMMIT/ROLLBACK).
_PG_DEDUP_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


@dataclass(frozen=True)
class SignalVerdict:
    accepted: bool
    signal_id: uuid.UUID  # the new signal, or the one this alert duplicates


def signal_hash(signal: NormalizedSignal) -> str:
    """SHA-256 hex of `symbol:direction:timeframe:timestamp-ISO` (UTC, milliseconds, Z)."""
    stamp = signal.timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{signal.timestamp.microsecond // 1000:03d}Z"
    return hashlib.sha256(f"{signal.symbol}:{signal.direction}:{signal.timeframe}:{stamp}".encode()).hexdigest()


def accept_signal_unless_duplicate(
    *, signal: NormalizedSignal, stored_payload: dict, received_at: datetime, window_seconds: int
) -> SignalVerdict:
    """Insert a pending signal unless one with the same key arrived within the window.

    Requires an open transaction. PostgreSQL: serialized per key by an advisory lock. SQLite: the
    IMMEDIATE transaction already holds the database write lock from BEGIN.
    """
    require_transaction()
    test = signal.test
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_DEDUP_LOCK_SQL, [f"signal-dedup:{signal.symbol}:{signal.direction}:{signal.timeframe}:{test.is_test}"])
        cursor.execute(
            _DUPLICATE_SQL,
            [
                signal.symbol, signal.direction, signal.timeframe,
                prep(Signal, "is_test", test.is_test),
                prep(Signal, "created_at", received_at - timedelta(seconds=window_seconds)),
            ],
        )
        row = cursor.fetchone()
    if row is not None:
        existing = row[0]
        return SignalVerdict(False, existing if isinstance(existing, uuid.UUID) else uuid.UUID(existing))
    signal_id = uuid.uuid4()
    insert_row(
        Signal,
        {
            "signal_id": signal_id, "symbol": signal.symbol, "direction": signal.direction,
            "timeframe": signal.timeframe, "timestamp": signal.timestamp, "status": Signal.Status.PENDING,
            "raw_payload": stored_payload, "signal_hash": signal_hash(signal), "is_test": test.is_test,
            "test_session_id": test.test_session_id, "test_scenario": test.test_scenario,
            "processed": False, "processing_lock": False, "processing_attempts": 0, "wait_attempts": 0,
            "created_at": received_at,
        },
    )
    return SignalVerdict(True, signal_id)


def record_webhook_event(
    *, event_id: uuid.UUID, request_id: uuid.UUID, kind: str, status: str, received_at: datetime,
    processing_time_ms: int, raw_payload: dict | None, error_message: str | None = None,
    symbol: str | None = None, direction: str | None = None, timeframe: str | None = None,
    signal_id: uuid.UUID | None = None, is_test: bool = False, test_session_id: str | None = None,
    test_scenario: str | None = None,
) -> None:
    """Insert the one audit row of a webhook request. Requires an open transaction."""
    require_transaction()
    insert_row(
        WebhookEvent,
        {
            "event_id": event_id, "request_id": request_id, "kind": kind, "status": status,
            "error_message": error_message, "symbol": symbol, "direction": direction,
            "timeframe": timeframe, "signal": signal_id, "processing_time_ms": processing_time_ms,
            "is_test": is_test, "test_session_id": test_session_id, "test_scenario": test_scenario,
            "raw_payload": raw_payload, "created_at": received_at,
        },
    )
