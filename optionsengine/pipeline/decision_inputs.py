"""Assemble the orchestrator's frozen inputs from settings, selectors and market data.

The only place the orchestrator reads configuration: pure code receives the dataclasses built
here. Market data is fetched by `market()` and must be called outside any transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings

from bias_app.selectors import get_bias_config, get_bias_state, get_entry_gate_config
from optionsengine.pipeline import enrich
from optionsengine.pipeline.portfolio import load_portfolio
from signals_app.engines.confluence import compute_confluence
from signals_app.engines.decide import DecideConfig, SignalDecision
from signals_app.engines.experiment import context_hash
from signals_app.engines.gates import GateConfig
from signals_app.engines.lifecycle import LifecycleConfig, SignalClock
from signals_app.engines.setup_type import setup_type_for
from signals_app.engines.snapshot import DecisionInput, MarketSnapshot, Portfolio, SignalFacts
from signals_app.engines.timeframes import timeframe_minutes
from signals_app.models import Signal
from signals_app.services.decisions import ContextRow


def lease_staleness() -> timedelta:
    return timedelta(minutes=settings.LOCK_STALENESS_MINUTES)


def lifecycle_config() -> LifecycleConfig:
    return LifecycleConfig(
        max_age=timedelta(minutes=settings.SIGNAL_MAX_AGE_MINUTES),
        market_closed_behavior=settings.MARKET_CLOSED_BEHAVIOR,
        risk_defer=timedelta(seconds=settings.RISK_DEFER_SECONDS),
        retry_delay=timedelta(milliseconds=settings.ORCHESTRATOR_RETRY_DELAY_MS),
        max_attempts=settings.ORCHESTRATOR_MAX_ATTEMPTS,
        wait_delay=timedelta(seconds=settings.ENTRY_WAIT_DELAY_SECONDS),
        max_wait_attempts=settings.ENTRY_WAIT_MAX_ATTEMPTS,
    )


def is_test(signal: Signal) -> bool:
    """SPEC §3: one definition of test traffic for every stage (E2E_TEST_MODE makes all of it test)."""
    return signal.is_test or settings.E2E_TEST_MODE


def signal_clock(signal: Signal) -> SignalClock:
    return SignalClock(
        timestamp=signal.timestamp, queued_until=signal.queued_until, is_test=is_test(signal),
        processing_attempts=signal.processing_attempts, wait_attempts=signal.wait_attempts,
    )


def signal_facts(signal: Signal) -> SignalFacts:
    return SignalFacts(
        signal_id=str(signal.pk), symbol=signal.symbol, direction=signal.direction, timeframe=signal.timeframe,
        timeframe_minutes=timeframe_minutes(signal.timeframe), timestamp=signal.timestamp,
        signal_hash=signal.signal_hash, is_test=is_test(signal), payload=signal.raw_payload or {},
    )


def portfolio(now: datetime) -> Portfolio:
    return load_portfolio(now)


def market(facts: SignalFacts, now: datetime) -> MarketSnapshot:
    return enrich.fetch_market(facts.symbol, facts.timeframe_minutes, setup_type_for(facts.timeframe_minutes), now)


def bias_state(symbol: str, now: datetime, memo: dict | None = None) -> dict | None:
    """The symbol's bias state, read once per sweep when the sweep passes its `memo`: a batch takes
    well under a second, and its signals often share symbols (without Redis each read is a query)."""
    if memo is None:
        return get_bias_state(symbol, now=now)
    if symbol not in memo:
        memo[symbol] = get_bias_state(symbol, now=now)
    return memo[symbol]


def decision_input(
    facts: SignalFacts, market: MarketSnapshot, portfolio: Portfolio, now: datetime, bias_memo: dict | None = None
) -> DecisionInput:
    return DecisionInput(
        signal=facts, market=market, portfolio=portfolio, bias_state=bias_state(facts.symbol, now, bias_memo),
        setup_type=setup_type_for(facts.timeframe_minutes),
        confluence=compute_confluence(
            facts.direction, market.gex, market.flow,
            threshold=settings.CONFLUENCE_MIN_THRESHOLD, gate_enabled=settings.ENABLE_CONFLUENCE_GATE,
        ),
        now=now,
    )


def split_percentage() -> Decimal:
    return Decimal(str(settings.AB_SPLIT_PERCENTAGE))


def decide_config() -> DecideConfig:
    return DecideConfig(
        gates=GateConfig(entry=get_entry_gate_config(), portfolio_guard_enabled=settings.ENABLE_PORTFOLIO_GUARD),
        risk_config=get_bias_config("risk"), max_contracts=settings.MAX_CONTRACTS_PER_TRADE, app_mode=settings.APP_MODE,
    )


def context_row(inp: DecisionInput) -> ContextRow:
    market, facts = inp.market, inp.signal
    volume = market.candles[-1].volume if market.candles else None
    indicators = market.indicators.as_dict()
    return ContextRow(
        timestamp=facts.timestamp, current_price=market.price, bid=market.bid, ask=market.ask, volume=volume,
        indicators=indicators,
        context_hash=context_hash(facts.signal_id, facts.timestamp, facts.symbol, market.price, market.bid,
                                  market.ask, volume, indicators),
    )


def enriched_data(inp: DecisionInput) -> dict:
    market = inp.market
    gex = market.gex
    flow = market.flow
    return {
        "symbol": inp.signal.symbol, "timeframe": inp.signal.timeframe, "setupType": inp.setup_type,
        "currentPrice": market.price, "priceStale": market.price_stale, "candlesCount": len(market.candles),
        "indicators": market.indicators.as_dict(),
        "gex": None if gex is None else {"netGex": gex.net_gex, "dealerPosition": gex.dealer_position,
                                         "zeroGammaLevel": gex.zero_gamma_level, "provider": gex.provider},
        "optionsFlow": None if flow is None else {"entries": len(flow.entries), "netPremium": flow.net_premium},
        "ivRank": market.iv_rank,
        "confluence": {"score": inp.confluence.score, "tier": inp.confluence.tier,
                       "multiplier": inp.confluence.multiplier, "passes": inp.confluence.passes,
                       "factors": inp.confluence.factors},
        "chain": None if market.chain is None else {"expiration": market.chain.expiration,
                                                    "contracts": len(market.chain.quotes)},
    }


def risk_data(inp: DecisionInput, decision: SignalDecision, label: str) -> dict:
    """The decision trail an operator reads: portfolio, every gate, engine verdicts, sizing, policy."""
    portfolio = inp.portfolio
    gates = decision.gates
    return {
        "outcome": label, "reason": decision.reason, "detail": decision.detail,
        "portfolio": {"openPositions": len(portfolio.positions),
                      "openSymbolPositions": portfolio.count_for(inp.signal.symbol),
                      "dailyPnl": portfolio.daily_pnl, "limits": portfolio.limits.__dict__},
        "biasState": None if inp.bias_state is None else {
            k: inp.bias_state.get(k) for k in ("bias", "biasScore", "confidence", "regimeType", "macroClass",
                                               "isStale", "stalenessMinutes")},
        "gates": None if gates is None else [
            {"name": c.name, "passed": c.passed, "reason": c.reason, "detail": c.detail, "notes": list(c.notes)}
            for c in gates.checks],
        "engines": [{"engine": d.engine, "decision": d.decision, "reason": d.reason, "quantity": d.quantity}
                    for d in decision.engines],
        "sizing": decision.sizing,
        "policy": decision.policy.__dict__,
    }
