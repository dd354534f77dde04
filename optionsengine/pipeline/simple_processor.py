"""Legacy mode (`ENABLE_ORCHESTRATOR=false`, SPEC §6): the seed's simple signal processor.

Enrichment and risk checks only — no experiment, no gates, no engines. The lifecycle checks and
portfolio caps have already run (shared with the orchestrator); here the price and flow/gamma
confluence decide: approve, or reject with the reason. The order creator then picks strike and
expiration by the SPEC §5 rules.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from optionsengine import marketdata
from optionsengine.lib.transactions import entry_point_transaction
from optionsengine.pipeline import decision_inputs
from optionsengine.pipeline.followups import after_commit
from optionsengine.pipeline.signal_outcomes import apply_transition
from signals_app.engines import lifecycle, reasons
from signals_app.engines.confluence import compute_confluence
from signals_app.engines.snapshot import Portfolio
from signals_app.models import Signal
from signals_app.services import leases
from signals_app.services.decisions import record_enrichment


def decide(signal: Signal, token: str, portfolio: Portfolio, now: datetime) -> str:
    service = marketdata.get_service()
    try:
        quote = service.stock_quote(signal.symbol)
    except marketdata.MarketDataUnavailable as exc:
        transition = lifecycle.after_fault(decision_inputs.signal_clock(signal), reasons.MARKET_DATA_UNAVAILABLE,
                                           str(exc), now, decision_inputs.lifecycle_config())
        return apply_transition(signal, token, transition, now)
    gex = _optional(lambda: service.gex(signal.symbol))
    flow = _optional(lambda: service.flow(signal.symbol))
    confluence = compute_confluence(signal.direction, gex, flow, threshold=settings.CONFLUENCE_MIN_THRESHOLD,
                                    gate_enabled=settings.ENABLE_CONFLUENCE_GATE)
    approved = confluence.passes and confluence.multiplier > 0
    reason = None if approved else reasons.CONFLUENCE_BELOW_THRESHOLD
    with entry_point_transaction():
        leases.finish_under_lease(
            signal.pk, token, status=Signal.Status.APPROVED if approved else Signal.Status.REJECTED,
            rejection_reason=reason, processed=True, next_retry_at=None,
        )
        record_enrichment(
            signal_id=signal.pk, rejection=reason, now=now,
            enriched={"symbol": signal.symbol, "currentPrice": quote.price, "processor": "simple",
                      "confluence": {"score": confluence.score, "tier": confluence.tier, "passes": confluence.passes}},
            risk={"outcome": "approved" if approved else f"rejected:{reason}", "reason": reason,
                  "detail": "simple processor (ENABLE_ORCHESTRATOR=false): enrichment and risk checks only",
                  "portfolio": {"openPositions": len(portfolio.positions), "dailyPnl": portfolio.daily_pnl}},
        )
        if approved:
            after_commit("create_orders", signal.pk)
    return "approved" if approved else f"rejected:{reason}"


def _optional(fetch):
    try:
        return fetch()
    except marketdata.MarketDataUnavailable:
        return None
