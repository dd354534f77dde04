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

from optionsengine.lib.rawsql import insert_row, json_param, prep
from optionsengine.lib.transactions import require_transaction
from signals_app.engines.normalize import NormalizedSignal
from signals_app.models import Signal, WebhookEvent

_DUPLICATE_SQL = (
    "SELECT signal_id FROM signals WHERE symbol = %s AND direction = %s AND timeframe = %s"
    " AND is_test = %s AND created_at > %s ORDER BY created_at DESC LIMIT 1"
)
# A transaction-scoped advisory lock per dedup key: concurrent identical alerts queue here, so the
# check-then-insert that follows is atomic across processes (released at COMMIT/ROLLBACK). It must
# be its own statement: a READ COMMITTED statement's snapshot is taken when it starts, so the check
# has to start after the lock is held to see a competitor's committed signal.
_PG_DEDUP_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"

# PostgreSQL: duplicate check, signal insert and audit insert in ONE statement (one round trip).
# Constants are literals and each value is bound once, because binding parameters is most of the
# client CPU this statement costs. Column lists must match the models (the HTTP tests prove it).
_PG_RECORD_SQL = """
WITH dup AS (
    SELECT signal_id FROM signals
    WHERE symbol = %(symbol)s AND direction = %(direction)s AND timeframe = %(timeframe)s
      AND is_test = %(is_test)s AND created_at > %(since)s
    ORDER BY created_at DESC LIMIT 1
), ins AS (
    INSERT INTO signals (signal_id, symbol, direction, timeframe, "timestamp", status, raw_payload,
        signal_hash, is_test, test_session_id, test_scenario, processed, processing_lock,
        processing_attempts, wait_attempts, created_at)
    SELECT %(signal_id)s, %(symbol)s, %(direction)s, %(timeframe)s, %(timestamp)s, 'pending', %(payload)s,
        %(signal_hash)s, %(is_test)s, %(test_session_id)s, %(test_scenario)s, false, false, 0, 0, %(received_at)s
    WHERE NOT EXISTS (SELECT 1 FROM dup)
    RETURNING signal_id
), audit AS (
    INSERT INTO webhook_events (event_id, request_id, kind, status, symbol, direction, timeframe,
        signal_id, processing_time_ms, is_test, test_session_id, test_scenario, raw_payload, created_at)
    SELECT %(event_id)s, %(request_id)s, %(kind)s,
        CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 'accepted' ELSE 'duplicate' END,
        %(symbol)s, %(direction)s, %(timeframe)s, (SELECT signal_id FROM ins), %(processing_time_ms)s,
        %(is_test)s, %(test_session_id)s, %(test_scenario)s, %(audit_payload)s, %(received_at)s
)
SELECT (SELECT signal_id FROM ins), (SELECT signal_id FROM dup)
"""


@dataclass(frozen=True)
class SignalVerdict:
    accepted: bool
    signal_id: uuid.UUID  # the new signal, or the one this alert duplicates


@dataclass(frozen=True)
class AuditFields:
    """The webhook_events columns known before the verdict (status and signal_id come from it)."""

    event_id: uuid.UUID
    request_id: uuid.UUID
    kind: str
    received_at: datetime
    processing_time_ms: int
    raw_payload: dict | None


def signal_hash(signal: NormalizedSignal) -> str:
    """SHA-256 hex of `symbol:direction:timeframe:timestamp-ISO` (UTC, milliseconds, Z)."""
    stamp = signal.timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{signal.timestamp.microsecond // 1000:03d}Z"
    return hashlib.sha256(f"{signal.symbol}:{signal.direction}:{signal.timeframe}:{stamp}".encode()).hexdigest()


def _signal_row(signal: NormalizedSignal, signal_id: uuid.UUID, stored_payload: dict, received_at: datetime) -> dict:
    test = signal.test
    return {
        "signal_id": signal_id, "symbol": signal.symbol, "direction": signal.direction,
        "timeframe": signal.timeframe, "timestamp": signal.timestamp, "status": Signal.Status.PENDING,
        "raw_payload": stored_payload, "signal_hash": signal_hash(signal), "is_test": test.is_test,
        "test_session_id": test.test_session_id, "test_scenario": test.test_scenario,
        "processed": False, "processing_lock": False, "processing_attempts": 0, "wait_attempts": 0,
        "created_at": received_at,
    }


def _audit_row(audit: AuditFields, signal: NormalizedSignal, status: str | None, signal_id: uuid.UUID | None) -> dict:
    test = signal.test
    row = {
        "event_id": audit.event_id, "request_id": audit.request_id, "kind": audit.kind, "status": status,
        "error_message": None, "symbol": signal.symbol, "direction": signal.direction, "timeframe": signal.timeframe,
        "signal": signal_id, "processing_time_ms": audit.processing_time_ms, "is_test": test.is_test,
        "test_session_id": test.test_session_id, "test_scenario": test.test_scenario,
        "raw_payload": audit.raw_payload, "created_at": audit.received_at,
    }
    return row


def record_signal_webhook(
    *, signal: NormalizedSignal, stored_payload: dict, audit: AuditFields, window_seconds: int
) -> SignalVerdict:
    """Insert a pending signal unless one with the same key arrived within the window, and the
    request's audit row (`accepted` or `duplicate`) with it.

    Requires an open transaction. PostgreSQL: serialized per key by an advisory lock, then one
    statement. SQLite: the IMMEDIATE transaction already holds the database write lock from BEGIN.
    """
    require_transaction()
    received_at = audit.received_at
    since = received_at - timedelta(seconds=window_seconds)
    new_id = uuid.uuid4()
    if connection.vendor == "postgresql":
        return _record_on_postgresql(signal, new_id, stored_payload, audit, since)
    signal_values = _signal_row(signal, new_id, stored_payload, received_at)

    with connection.cursor() as cursor:
        cursor.execute(
            _DUPLICATE_SQL,
            [signal.symbol, signal.direction, signal.timeframe, prep(Signal, "is_test", signal.test.is_test), prep(Signal, "created_at", since)],
        )
        row = cursor.fetchone()
    if row is None:
        insert_row(Signal, signal_values)
        verdict = SignalVerdict(True, new_id)
    else:
        verdict = SignalVerdict(False, uuid.UUID(row[0]))
    status = WebhookEvent.Status.ACCEPTED if verdict.accepted else WebhookEvent.Status.DUPLICATE
    insert_row(WebhookEvent, _audit_row(audit, signal, status, new_id if verdict.accepted else None))
    return verdict


def _record_on_postgresql(
    signal: NormalizedSignal, new_id: uuid.UUID, stored_payload: dict, audit: AuditFields, since: datetime
) -> SignalVerdict:
    test = signal.test
    params = {
        "symbol": signal.symbol, "direction": signal.direction, "timeframe": signal.timeframe,
        "is_test": test.is_test, "since": since, "signal_id": new_id, "timestamp": signal.timestamp,
        "payload": json_param(stored_payload), "signal_hash": signal_hash(signal),
        "test_session_id": test.test_session_id, "test_scenario": test.test_scenario,
        "received_at": audit.received_at, "event_id": audit.event_id, "request_id": audit.request_id,
        "kind": audit.kind, "processing_time_ms": audit.processing_time_ms,
        "audit_payload": json_param(audit.raw_payload),
    }
    with connection.cursor() as cursor:
        cursor.execute(_PG_DEDUP_LOCK_SQL, [f"signal-dedup:{signal.symbol}:{signal.direction}:{signal.timeframe}:{test.is_test}"])
        cursor.execute(_PG_RECORD_SQL, params)
        inserted, existing = cursor.fetchone()
    return SignalVerdict(True, inserted) if inserted else SignalVerdict(False, existing)


def record_webhook_event(
    *, event_id: uuid.UUID, request_id: uuid.UUID, kind: str, status: str, received_at: datetime,
    processing_time_ms: int, raw_payload: dict | None, error_message: str | None = None,
    symbol: str | None = None, direction: str | None = None, timeframe: str | None = None,
    signal_id: uuid.UUID | None = None, is_test: bool = False, test_session_id: str | None = None,
    test_scenario: str | None = None,
) -> None:
    """Insert the one audit row of a webhook request that made no signal. Requires a transaction."""
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
