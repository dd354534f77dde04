"""Signal leases (SPEC §6): claim pending signals, recover stale leases, write under the lease.

A claim sets `processing_lock`, `locked_at` and `locked_by` = a token unique to that claim. Every
later write for the signal is an UPDATE … WHERE locked_by = <token>: when a slow worker's lease was
recovered after LOCK_STALENESS_MINUTES and the signal re-claimed, the late worker's write matches
no row, so it can never overwrite the newer decision (`LeaseLost`).

Claims are correct on both databases: on PostgreSQL candidates are selected FOR UPDATE SKIP LOCKED
(concurrent claimers take disjoint rows without waiting); on SQLite the IMMEDIATE write
transaction serializes claimers. In both, the UPDATE re-checks `processing_lock = FALSE`, so a row
is claimed once even if a candidate list was stale.

Every function requires the caller's transaction.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q

from optionsengine.lib.transactions import require_transaction
from signals_app.engines.lifecycle import Transition
from signals_app.models import Signal


class LeaseLost(Exception):
    """The signal's lease was recovered and taken by another worker: write nothing."""


def new_lease_token(instance_id: str) -> str:
    return f"{instance_id}:{os.getpid()}:{uuid.uuid4().hex[:12]}"[:100]


def recover_stale_leases(*, now: datetime, staleness: timedelta) -> int:
    """Release leases older than `staleness` (a worker died or hung); returns how many."""
    require_transaction()
    return Signal.objects.filter(processing_lock=True, processed=False, locked_at__lt=now - staleness).update(
        processing_lock=False, locked_by=None, locked_at=None
    )


def claimable(now: datetime):
    """The seed's filters: unprocessed, unlocked, pending, and due (queue and retry times passed)."""
    return Signal.objects.filter(
        Q(queued_until__isnull=True) | Q(queued_until__lte=now),
        Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now),
        processed=False, processing_lock=False, status=Signal.Status.PENDING,
    )


def claim_signals(*, now: datetime, limit: int, token: str, signal_ids: list | None = None) -> list[Signal]:
    """Lease up to `limit` due signals, oldest first. Three statements whatever the table size."""
    require_transaction()
    candidates = claimable(now).order_by("created_at")
    if signal_ids is not None:
        candidates = candidates.filter(pk__in=signal_ids)
    if connection.vendor == "postgresql":
        candidates = candidates.select_for_update(skip_locked=True, of=("self",))
    ids = list(candidates.values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    Signal.objects.filter(pk__in=ids, processing_lock=False, processed=False).update(
        processing_lock=True, locked_by=token, locked_at=now
    )
    return list(Signal.objects.filter(pk__in=ids, locked_by=token).order_by("created_at"))


def finish_under_lease(signal_id, token: str, **fields) -> None:
    """Write the signal's outcome and release the lease, only if `token` still holds it."""
    require_transaction()
    updated = Signal.objects.filter(pk=signal_id, locked_by=token, processing_lock=True).update(
        processing_lock=False, locked_by=None, locked_at=None, **fields
    )
    if updated != 1:
        raise LeaseLost(f"signal {signal_id}: lease {token} no longer held")


def transition_fields(transition: Transition, now: datetime) -> dict:
    """The signal columns a lifecycle transition writes (SPEC §6 state table)."""
    fields: dict = {
        "status": transition.status,
        "rejection_reason": transition.reason,
        "processed": transition.final,
        "next_retry_at": transition.next_retry_at,
    }
    if transition.queued_until is not None:
        fields.update(queued_until=transition.queued_until, queued_at=now, queue_reason=transition.queue_reason)
    if transition.processing_attempts is not None:
        fields["processing_attempts"] = transition.processing_attempts
    if transition.wait_attempts is not None:
        fields["wait_attempts"] = transition.wait_attempts
    return fields
