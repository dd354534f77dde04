"""Writing a lifecycle transition for a claimed signal (shared by the orchestrator and the legacy
processor): one transaction, lease-guarded, with the human detail kept in `refactored_signals`."""

from __future__ import annotations

from datetime import datetime

from optionsengine.lib.transactions import entry_point_transaction
from signals_app.engines import lifecycle, reasons
from signals_app.models import Signal
from signals_app.services import leases
from signals_app.services.decisions import record_enrichment


def label(transition: lifecycle.Transition) -> str:
    """The stage-summary bucket of a transition (`rejected:<code>`, queued, deferred, …)."""
    if transition.final:
        return f"rejected:{reasons.base_code(transition.reason)}"
    if transition.queued_until is not None:
        return "queued"
    if transition.reason == reasons.ENTRY_WAIT:
        return "waiting"
    return "deferred" if transition.reason in reasons.DEFERRABLE else "retrying"


def apply_transition(signal: Signal, token: str, transition: lifecycle.Transition, now: datetime) -> str:
    """Write a transition for which no engine ran. Raises LeaseLost if the lease was taken over."""
    with entry_point_transaction():
        leases.finish_under_lease(signal.pk, token, **leases.transition_fields(transition, now))
        record_enrichment(
            signal_id=signal.pk, enriched={}, rejection=transition.reason if transition.final else None, now=now,
            risk={"outcome": label(transition), "reason": transition.reason, "detail": transition.detail},
        )
    return label(transition)
