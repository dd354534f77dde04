"""Apply one validated bias event to `bias_state_history` + `bias_state_current` (SPEC §4).

Requires the caller's transaction; never opens one. Guarantees, all held by the database:
- idempotency: `bias_state_history.event_id_raw` is unique, so a resend is a duplicate even if it
  races the original (the losing insert's IntegrityError is caught in a savepoint);
- ordering: only an event strictly newer than the stored `updated_at_ms` changes the current state;
  older or equal ones are recorded with status `out_of_order` so their resends are duplicates too;
- per-symbol serialization: the `bias_state_current` row is locked (`FOR NO KEY UPDATE`) before
  it is read, so two updates for one symbol cannot both compare against the same previous state.
  On SQLite the IMMEDIATE write transaction already serializes every writer (the lock is a no-op).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction

from bias_app import cache
from bias_app.engines.config import GatingConfig, StalenessConfig
from bias_app.engines.derive import build_state
from bias_app.engines.normalize import BiasEvent
from bias_app.models import BiasStateCurrent, BiasStateHistory
from bias_app.selectors import get_gating_config, get_staleness_config
from optionsengine.lib.transactions import require_transaction

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
OUT_OF_ORDER = "out_of_order"


class _AlreadyRecorded(Exception):
    """Raised inside the event's savepoint so everything it wrote is rolled back."""


def apply_bias_event(*, event: BiasEvent, received_at: datetime) -> tuple[str, dict | None]:
    """(status, the state now current or None). Status: accepted | duplicate | out_of_order."""
    require_transaction()
    gating, staleness = get_gating_config(), get_staleness_config()
    try:
        with transaction.atomic():  # savepoint: an event is recorded completely or not at all
            return _apply(event, received_at, gating, staleness)
    except _AlreadyRecorded:
        return DUPLICATE, None


def _apply(event: BiasEvent, received_at: datetime, gating: GatingConfig, staleness: StalenessConfig) -> tuple[str, dict | None]:
    current = _lock_current_row(event.symbol, received_at)
    if _recorded(event.event_id_raw):
        raise _AlreadyRecorded
    previous = current.state_json or None  # {} marks a row created for this symbol's first event
    if previous is not None and event.event_ts_ms <= current.updated_at_ms:
        # Derived fields are computed without a previous state: this event never followed one.
        ignored = build_state(event.core, None, gamma=event.gamma, gating=gating, staleness=staleness, now=received_at)
        _insert_history(event, ignored, BiasStateHistory.Status.OUT_OF_ORDER, received_at)
        return OUT_OF_ORDER, None
    state = build_state(event.core, previous, gamma=event.gamma, gating=gating, staleness=staleness, now=received_at)
    _insert_history(event, state, BiasStateHistory.Status.ACCEPTED, received_at)
    current.updated_at_ms = event.event_ts_ms
    current.state_json = state
    current.event_id_raw = event.event_id_raw
    current.source = event.source
    current.updated_at = received_at
    current.save(update_fields=["updated_at_ms", "state_json", "event_id_raw", "source", "updated_at"])
    transaction.on_commit(partial(cache.publish_state, event.symbol, state))
    return ACCEPTED, state


def _recorded(event_id_raw: str) -> bool:
    return BiasStateHistory.objects.filter(event_id_raw=event_id_raw).exists()


def _lock_current_row(symbol: str, now: datetime) -> BiasStateCurrent:
    """The symbol's current row, locked for this transaction; created (empty) if missing.

    A missing row cannot be locked, so it is first inserted with ON CONFLICT DO NOTHING: a
    concurrent first event for the same symbol waits on the unique index, then on the row lock.
    The empty row never commits empty: the first event always applies (any ts > 0) or, when it
    turns out to be a duplicate, the savepoint that created the row is rolled back.
    """
    locked = BiasStateCurrent.objects.select_for_update(no_key=True)
    row = locked.filter(symbol=symbol).first()
    if row is None:
        BiasStateCurrent.objects.bulk_create(
            [BiasStateCurrent(symbol=symbol, updated_at_ms=0, state_json={}, event_id_raw="", source="", created_at=now, updated_at=now)],
            ignore_conflicts=True,
        )
        row = locked.get(symbol=symbol)
    return row


def _insert_history(event: BiasEvent, state: dict, status: str, received_at: datetime) -> None:
    try:
        with transaction.atomic():  # savepoint, so a lost race leaves the transaction usable
            BiasStateHistory.objects.create(
                event_id_raw=event.event_id_raw, event_id=event.event_id, symbol=event.symbol,
                event_ts_ms=event.event_ts_ms, event_type=event.event_type, source=event.source,
                state_json=state, status=status, created_at=received_at,
            )
    except IntegrityError:
        # The same event_id_raw committed meanwhile under another symbol's lock: a resend.
        if BiasStateHistory.objects.filter(event_id_raw=event.event_id_raw).exists():
            raise _AlreadyRecorded from None
        raise
