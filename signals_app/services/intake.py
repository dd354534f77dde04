"""Writes of the ingestion stage: the signal (or its duplicate verdict) and the audit row.

These sit on the webhook hot path, so they use fixed SQL (see optionsengine.lib.rawsql) instead of
building ORM queries per request. On PostgreSQL the signal intake is one statement batch that runs
in the caller's transaction if there is one, else as its own; everything else requires the caller's
transaction. The batch relies on READ COMMITTED (a statement's snapshot is taken when it starts)
and on Django's default client-side parameter binding (the simple query protocol, which alone
allows several statements in one round trip).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django_q.models import OrmQ

from optionsengine.lib.queue_rows import TaskRow
from optionsengine.lib.rawsql import insert_row, json_param, prep
from optionsengine.lib.transactions import require_transaction
from optionsengine.marketdata.anchors import Anchor, DatabaseAnchors
from signals_app.engines.normalize import NormalizedSignal
from signals_app.models import Signal, WebhookEvent

_DUPLICATE_SQL = (
    "SELECT signal_id FROM signals WHERE symbol = %s AND direction = %s AND timeframe = %s"
    " AND is_test = %s AND created_at > %s ORDER BY created_at DESC LIMIT 1"
)
# PostgreSQL: the whole intake is ONE multi-statement batch, sent in one round trip (Django's
# client-side binding cursor uses the simple query protocol). Outside a transaction PostgreSQL runs
# the batch as one implicit transaction, so the alert costs no BEGIN/COMMIT round trips either.
#   1. A transaction-scoped advisory lock per dedup key: concurrent identical alerts queue here, so
#      the check-then-insert that follows is atomic across processes (released at COMMIT/ROLLBACK).
#      It must be its own statement: a READ COMMITTED statement's snapshot is taken when it starts,
#      so the check has to start after the lock is held to see a competitor's committed signal.
#   2. Duplicate check, signal, audit row and, for an accepted signal only, the simulated market's
#      anchor and the fast-path task row, all in one statement. Constants are literals and each
#      value is bound once (binding is most of the client CPU this costs). Column lists must match
#      the models (the HTTP tests prove it).
_PG_INTAKE_SQL = """
SELECT pg_advisory_xact_lock(hashtextextended(%(dedup_key)s, 0));
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
), anchor AS (
    INSERT INTO market_price_anchors (symbol, price, anchored_at)
    SELECT %(anchor_symbol)s, %(anchor_price)s, %(anchor_at)s
    WHERE %(anchor_price)s IS NOT NULL AND EXISTS (SELECT 1 FROM ins)
    ON CONFLICT (symbol) DO UPDATE SET price = excluded.price, anchored_at = excluded.anchored_at
    WHERE excluded.anchored_at >= market_price_anchors.anchored_at
), task AS (
    INSERT INTO django_q_ormq (key, payload, lock)
    SELECT %(task_key)s, %(task_payload)s, %(task_lock)s
    WHERE %(task_key)s IS NOT NULL AND EXISTS (SELECT 1 FROM ins)
)
SELECT (SELECT signal_id FROM ins), (SELECT signal_id FROM dup)
"""


@dataclass(frozen=True)
class OnAccept:
    """Rows written with an accepted signal, atomically with it (never for a duplicate)."""

    anchor: Anchor | None = None  # the simulated market re-anchors to the alert's price (SPEC §5)
    task: TaskRow | None = None  # the fast-path task row (optionsengine.pipeline.followups.task_row)


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
    *, signal_id: uuid.UUID, signal: NormalizedSignal, stored_payload: dict, audit: AuditFields,
    window_seconds: int, on_accept: OnAccept = OnAccept(),
) -> SignalVerdict:
    """Insert the pending signal `signal_id` unless one with the same key arrived within the window,
    the request's audit row (`accepted` or `duplicate`) with it, and `on_accept`'s rows if accepted.

    PostgreSQL: one round trip (see _PG_INTAKE_SQL), in the caller's transaction if there is one,
    else as its own. SQLite: requires the caller's transaction, whose IMMEDIATE BEGIN already holds
    the database write lock, so the check-then-insert cannot race.
    """
    received_at = audit.received_at
    since = received_at - timedelta(seconds=window_seconds)
    if connection.vendor == "postgresql":
        return _record_on_postgresql(signal, signal_id, stored_payload, audit, since, on_accept)
    require_transaction()
    with connection.cursor() as cursor:
        cursor.execute(
            _DUPLICATE_SQL,
            [signal.symbol, signal.direction, signal.timeframe, prep(Signal, "is_test", signal.test.is_test), prep(Signal, "created_at", since)],
        )
        row = cursor.fetchone()
    if row is None:
        insert_row(Signal, _signal_row(signal, signal_id, stored_payload, received_at))
        verdict = SignalVerdict(True, signal_id)
    else:
        verdict = SignalVerdict(False, uuid.UUID(row[0]))
    status = WebhookEvent.Status.ACCEPTED if verdict.accepted else WebhookEvent.Status.DUPLICATE
    insert_row(WebhookEvent, _audit_row(audit, signal, status, signal_id if verdict.accepted else None))
    if verdict.accepted:
        if on_accept.anchor is not None:
            DatabaseAnchors().set(on_accept.anchor)
        if on_accept.task is not None:
            task = on_accept.task
            insert_row(OrmQ, {"key": task.key, "payload": task.payload, "lock": task.lock})
    return verdict


def _record_on_postgresql(
    signal: NormalizedSignal, signal_id: uuid.UUID, stored_payload: dict, audit: AuditFields, since: datetime,
    on_accept: OnAccept,
) -> SignalVerdict:
    test = signal.test
    anchor, task = on_accept.anchor, on_accept.task
    params = {
        "dedup_key": f"signal-dedup:{signal.symbol}:{signal.direction}:{signal.timeframe}:{test.is_test}",
        "symbol": signal.symbol, "direction": signal.direction, "timeframe": signal.timeframe,
        "is_test": test.is_test, "since": since, "signal_id": signal_id, "timestamp": signal.timestamp,
        "payload": json_param(stored_payload), "signal_hash": signal_hash(signal),
        "test_session_id": test.test_session_id, "test_scenario": test.test_scenario,
        "received_at": audit.received_at, "event_id": audit.event_id, "request_id": audit.request_id,
        "kind": audit.kind, "processing_time_ms": audit.processing_time_ms,
        "audit_payload": json_param(audit.raw_payload),
        "anchor_symbol": anchor and anchor.symbol, "anchor_price": anchor and anchor.price,
        "anchor_at": anchor and anchor.anchored_at,
        "task_key": task and task.key, "task_payload": task and task.payload, "task_lock": task and task.lock,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PG_INTAKE_SQL, params)
        cursor.nextset()  # past the advisory lock's result
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
