"""Stage 3 — the orchestrator (SPEC §6): every pending signal decided exactly once.

    sweep ─► [tx] recover stale leases, claim a batch (lease token)
          └► per signal: lifecycle checks (stale, market hours) → portfolio caps → market data
             (no transaction open) → pure decision → [tx] lease-guarded write of the whole set

Guarantees:
- A signal is decided by one worker: claims skip locked / already-claimed rows, and every write
  is conditional on the claim's lease token (a late worker whose lease was recovered writes
  nothing — `LeaseLost`).
- No network call inside a transaction; each signal's outcome commits in one transaction.
- Nothing is left locked by an error: any failure becomes a lease-guarded `processing_failed`
  retry, and a crashed process's lease is recovered after LOCK_STALENESS_MINUTES.
- The order creator is enqueued on commit of an approval.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.conf import settings

from optionsengine import marketdata
from optionsengine.lib.transactions import entry_point_transaction
from optionsengine.pipeline import decision_inputs, simple_processor
from optionsengine.pipeline.followups import after_commit
from optionsengine.pipeline.signal_outcomes import apply_transition, label
from optionsengine.pipeline.stage import StageResult
from positions_app.services.breaker import trip_breaker
from signals_app.engines import lifecycle, reasons
from signals_app.engines.decide import APPROVED, WAITING, decide_signal
from signals_app.engines.experiment import assign_variant
from signals_app.engines.snapshot import Portfolio
from signals_app.models import Signal
from signals_app.services import leases
from signals_app.services.decisions import record_decision

logger = logging.getLogger(__name__)


def sweep(*, now: datetime, signal_ids: list | None = None, limit: int | None = None) -> StageResult:
    """Claim due signals (a batch) and decide each. `signal_ids` targets specific signals."""
    result = StageResult("orchestrator")
    token = leases.new_lease_token(settings.INSTANCE_ID)
    with entry_point_transaction():
        recovered = leases.recover_stale_leases(now=now, staleness=decision_inputs.lease_staleness())
        claimed = leases.claim_signals(
            now=now, limit=limit or settings.ORCHESTRATOR_BATCH_SIZE, token=token, signal_ids=signal_ids
        )
    if recovered:
        result.count("leases_recovered", recovered)
    result.count("claimed", len(claimed))
    portfolio = decision_inputs.portfolio(now) if claimed else None
    bias_memo: dict = {}
    for signal in claimed:
        try:
            outcome = process_claimed(signal, token, now, portfolio, bias_memo)
            if outcome == "approved" and not decision_inputs.is_test(signal):
                portfolio = portfolio.with_pending_entry(signal.symbol)
        except leases.LeaseLost as exc:
            logger.warning("%s", exc)
            outcome = "lease_lost"
        except Exception as exc:  # never leave a claimed signal locked
            logger.exception("orchestrator: signal %s failed", signal.pk)
            result.error(f"{signal.pk}: {type(exc).__name__}: {exc}"[:300])
            outcome = _fault(signal, token, reasons.PROCESSING_FAILED, f"{type(exc).__name__}: {exc}", now)
        result.count(outcome)
    return result


def _fault(signal: Signal, token: str, reason: str, detail: str, now: datetime) -> str:
    try:
        transition = lifecycle.after_fault(decision_inputs.signal_clock(signal), reason, detail, now,
                                           decision_inputs.lifecycle_config())
        return apply_transition(signal, token, transition, now)
    except leases.LeaseLost:
        return "lease_lost"
    except Exception:  # the database itself is failing: lease recovery releases the signal later
        logger.exception("orchestrator: could not record %s for signal %s", reason, signal.pk)
        return "error"


def process_claimed(
    signal: Signal, token: str, now: datetime, portfolio: Portfolio | None = None, bias_memo: dict | None = None
) -> str:
    """Decide one claimed signal against `portfolio` (loaded when not given); returns the outcome
    label for the stage summary."""
    started = time.perf_counter()
    config = decision_inputs.lifecycle_config()
    clock = decision_inputs.signal_clock(signal)
    early = lifecycle.before_decision(clock, now, config)
    if early is not None:
        return apply_transition(signal, token, early, now)
    portfolio = portfolio if portfolio is not None else decision_inputs.portfolio(now)
    violation = lifecycle.risk_cap_violation(portfolio, signal.symbol)
    if violation is not None:
        return apply_transition(signal, token, lifecycle.after_risk_limit(clock, *violation, now, config), now)
    if not settings.ENABLE_ORCHESTRATOR:
        return simple_processor.decide(signal, token, portfolio, now)
    facts = decision_inputs.signal_facts(signal)
    try:
        market = decision_inputs.market(facts, now)
    except marketdata.MarketDataUnavailable as exc:
        return apply_transition(signal, token, lifecycle.after_fault(clock, reasons.MARKET_DATA_UNAVAILABLE, str(exc), now, config), now)
    if (time.perf_counter() - started) * 1000 > settings.ORCHESTRATOR_SIGNAL_TIMEOUT_MS:
        detail = f"enrichment took longer than {settings.ORCHESTRATOR_SIGNAL_TIMEOUT_MS} ms"
        return apply_transition(signal, token, lifecycle.after_fault(clock, reasons.PROCESSING_TIMEOUT, detail, now, config), now)
    inp = decision_inputs.decision_input(facts, market, portfolio, now, bias_memo)
    assignment = assign_variant(str(signal.pk), signal.signal_hash, decision_inputs.split_percentage())
    decision = decide_signal(inp, variant=assignment.variant, decision_only=lifecycle.decision_only_now(clock, now, config),
                             config=decision_inputs.decide_config())
    if decision.outcome == WAITING:
        transition = lifecycle.after_wait(clock, decision.detail, now, config)
        fields, outcome = leases.transition_fields(transition, now), label(transition)
    elif decision.outcome == APPROVED:
        fields, outcome = {"status": Signal.Status.APPROVED, "rejection_reason": None, "processed": True,
                           "next_retry_at": None}, "approved"
    else:
        fields = {"status": Signal.Status.REJECTED, "rejection_reason": decision.reason, "processed": True,
                  "next_retry_at": None}
        outcome = f"rejected:{reasons.base_code(decision.reason)}"
    with entry_point_transaction():
        record_decision(
            signal=signal, token=token, decision=decision, signal_fields=fields,
            context=decision_inputs.context_row(inp), enriched=decision_inputs.enriched_data(inp),
            risk=decision_inputs.risk_data(inp, decision, outcome), variant=assignment.variant,
            assignment_hash=assignment.assignment_hash, split_percentage=decision_inputs.split_percentage(), now=now,
        )
        trip = decision.gates.breaker_trip if decision.gates is not None else None
        if trip:
            trip_breaker(freeze_until=trip["freeze_until"], drawdown_pct=trip["drawdown_pct"], now=now)
        if outcome == "approved":
            after_commit("create_orders", signal.pk)
    return outcome
