"""Persist one signal's decision: the whole write-set in the caller's one transaction (SPEC §6).

Order matters: the lease-guarded signal UPDATE runs first, so a worker whose lease was taken over
raises `LeaseLost` before it writes anything else, and on PostgreSQL the signal row stays locked
until COMMIT. Every other write is an upsert keyed per signal / experiment (the experiment id is
derived from the signal id), so a retry after a crash rewrites the same rows instead of adding
new ones. A fixed number of statements per signal, whatever the table sizes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from optionsengine.lib.jsonsafe import jsonable
from optionsengine.lib.transactions import require_transaction
from signals_app.engines.decide import SignalDecision
from signals_app.models import (
    AgentDecision,
    DecisionRecommendation,
    ExecutionPolicy,
    Experiment,
    MarketContext,
    RefactoredSignal,
    Signal,
)
from signals_app.services.leases import finish_under_lease

_EXPERIMENT_NAMESPACE = uuid.UUID("5d1c8f0e-6a57-4a8e-9a43-0c1f4b7e2a11")


def experiment_id_for(signal_id) -> uuid.UUID:
    """Deterministic, so every retry of a signal upserts the same experiment and its children."""
    return uuid.uuid5(_EXPERIMENT_NAMESPACE, str(signal_id))


@dataclass(frozen=True)
class ContextRow:
    """The `market_contexts` snapshot (prices in USD)."""

    timestamp: datetime
    current_price: Decimal
    bid: Decimal | None
    ask: Decimal | None
    volume: int | None
    indicators: Mapping
    context_hash: str


def _upsert(model, row, unique: list[str], update: list[str]) -> None:
    model.objects.bulk_create([row], update_conflicts=True, unique_fields=unique, update_fields=update)


def record_enrichment(*, signal_id, enriched: Mapping, risk: Mapping, rejection: str | None, now: datetime) -> None:
    """Upsert the `refactored_signals` row: what was known and checked when the signal was judged."""
    require_transaction()
    _upsert(
        RefactoredSignal,
        RefactoredSignal(signal_id=signal_id, enriched_data=jsonable(enriched), risk_check_result=jsonable(risk),
                         rejection_reason=rejection, processed_at=now),
        ["signal"], ["enriched_data", "risk_check_result", "rejection_reason", "processed_at"],
    )


def record_decision(
    *, signal: Signal, token: str, decision: SignalDecision, signal_fields: Mapping, context: ContextRow,
    enriched: Mapping, risk: Mapping, variant: str, assignment_hash: str, split_percentage: Decimal, now: datetime,
) -> uuid.UUID:
    """Write signal status, enrichment, context, experiment, policy, votes and recommendations."""
    require_transaction()
    experiment_id = experiment_id_for(signal.pk)
    finish_under_lease(signal.pk, token, experiment_id=experiment_id, meta_gamma=jsonable(decision.meta_gamma) or None,
                       **signal_fields)
    record_enrichment(signal_id=signal.pk, enriched=enriched, risk=risk,
                      rejection=signal_fields.get("rejection_reason"), now=now)
    _upsert(
        MarketContext,
        MarketContext(signal_id=signal.pk, timestamp=context.timestamp, symbol=signal.symbol,
                      current_price=context.current_price, bid=context.bid, ask=context.ask, volume=context.volume,
                      indicators=jsonable(context.indicators), context_hash=context.context_hash, created_at=now),
        ["signal"], ["timestamp", "current_price", "bid", "ask", "volume", "indicators", "context_hash", "created_at"],
    )
    _upsert(
        Experiment,
        Experiment(experiment_id=experiment_id, signal_id=signal.pk, variant=variant, assignment_hash=assignment_hash,
                   split_percentage=split_percentage, created_at=now),
        ["signal"], ["variant", "assignment_hash", "split_percentage"],
    )
    policy = decision.policy
    _upsert(
        ExecutionPolicy,
        ExecutionPolicy(experiment_id=experiment_id, execution_mode=policy.mode, executed_engine=policy.executed_engine,
                        shadow_engine=policy.shadow_engine, reason=policy.reason, created_at=now),
        ["experiment"], ["execution_mode", "executed_engine", "shadow_engine", "reason", "created_at"],
    )
    # Votes are replaced as a set: a retry may activate different agents than the first attempt.
    AgentDecision.objects.filter(experiment_id=experiment_id).delete()
    AgentDecision.objects.bulk_create([
        AgentDecision(
            experiment_id=experiment_id, signal_id=signal.pk, engine=d.engine, agent_name=v.agent_name,
            agent_type=v.agent_type, bias=v.bias, confidence=v.confidence, reasons=jsonable(v.reasons), block=v.block,
            metadata=jsonable(v.metadata), created_at=now,
        )
        for d in decision.engines for v in d.votes
    ])
    DecisionRecommendation.objects.bulk_create(
        [_recommendation(signal, experiment_id, d, policy.executed_engine, now) for d in decision.engines],
        update_conflicts=True, unique_fields=["experiment", "engine"],
        update_fields=["strike", "expiration", "quantity", "entry_price", "is_shadow", "decision", "reason",
                       "rationale", "created_at"],
    )
    return experiment_id


def _recommendation(signal: Signal, experiment_id, d, executed_engine: str | None, now: datetime) -> DecisionRecommendation:
    contract = d.contract
    return DecisionRecommendation(
        experiment_id=experiment_id, engine=d.engine, signal_id=signal.pk, symbol=signal.symbol,
        direction=signal.direction, timeframe=signal.timeframe,
        strike=contract.strike if contract else None, expiration=contract.expiration if contract else None,
        quantity=d.quantity, entry_price=contract.entry_price if contract else None,
        is_shadow=d.engine != executed_engine, decision=d.decision, reason=d.reason,
        rationale=jsonable({**d.rationale, **({"contract": contract.rationale} if contract else {})}), created_at=now,
    )
