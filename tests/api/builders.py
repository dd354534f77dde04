"""Rows of one alert's whole life, stage by stage, as the pipeline writes them (for the trace,
the API and the operator pages). Explicit defaults; `lifecycle(upto=…)` stops at a stage."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bias_app.models import BiasTradePerformance
from orders_app.models import Order, Trade
from positions_app.models import Position
from signals_app.models import (
    AgentDecision,
    DecisionRecommendation,
    ExecutionPolicy,
    Experiment,
    MarketContext,
    RefactoredSignal,
    Signal,
    WebhookEvent,
)

# Fri 2026-03-13 10:30 New York: regular hours.
NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
EXPIRY = date(2026, 4, 10)
D = Decimal

STAGES = ("pending", "approved", "ordered", "open", "closing", "closed")

GATES = [
    {"name": "mtf_bias_missing", "passed": True, "reason": None, "detail": None, "notes": []},
    {"name": "trade_suppressed_by_bias", "passed": True, "reason": None, "detail": None, "notes": []},
    {"name": "bias_state_stale", "passed": True, "reason": None, "detail": None, "notes": []},
    {"name": "portfolio_guard", "passed": True, "reason": None, "detail": None, "notes": []},
    {"name": "setup_validator", "passed": True, "reason": None, "detail": None, "notes": []},
    {"name": "drawdown_circuit_breaker", "passed": True, "reason": None, "detail": None, "notes": []},
    {"name": "gamma_exposure_limit", "passed": True, "reason": None, "detail": None, "notes": ["greeks unknown"]},
]


@dataclass
class Lifecycle:
    signal: Signal
    event: WebhookEvent
    experiment: Experiment | None = None
    entry_order: Order | None = None
    entry_trade: Trade | None = None
    position: Position | None = None
    exit_orders: list[Order] = field(default_factory=list)
    performance: BiasTradePerformance | None = None


def webhook_signal(*, symbol="SPY", direction="long", timeframe="15m", at=NOW, status=Signal.Status.PENDING,
                   is_test=False, **fields) -> tuple[Signal, WebhookEvent]:
    signal = Signal.objects.create(
        symbol=symbol, direction=direction, timeframe=timeframe, timestamp=at, status=status,
        raw_payload={"symbol": symbol, "direction": direction, "timeframe": timeframe, "trace_id": "t-1"},
        signal_hash=hashlib.sha256(f"{uuid.uuid4()}".encode()).hexdigest(), is_test=is_test,
        processed=status != Signal.Status.PENDING, created_at=at, **fields,
    )
    event = WebhookEvent.objects.create(
        request_id=uuid.uuid4(), kind="signal", status="accepted", symbol=symbol, direction=direction,
        timeframe=timeframe, signal=signal, processing_time_ms=4, is_test=is_test,
        raw_payload={"symbol": symbol, "secret": "[REDACTED]"}, created_at=at,
    )
    return signal, event


def rejected(reason: str, detail: str, *, gates=None, at=NOW, **fields) -> Signal:
    """A signal the orchestrator rejected, with its trail (`gates` None: settled before the gates)."""
    signal, _ = webhook_signal(at=at, status=Signal.Status.REJECTED, rejection_reason=reason, **fields)
    RefactoredSignal.objects.create(
        signal=signal, enriched_data={"currentPrice": "601.20"}, rejection_reason=reason,
        risk_check_result={"outcome": f"rejected:{reason.split(':')[0]}", "reason": reason, "detail": detail,
                           "gates": gates, "engines": [], "sizing": None, "policy": {}},
        processed_at=at + timedelta(seconds=2),
    )
    return signal


def lifecycle(*, upto="closed", at=NOW, symbol="SPY", is_test=False) -> Lifecycle:
    """pending → approved (decision rows) → ordered (pending entry order) → open (filled, position)
    → closing (a partial exit filled, the final exit order pending) → closed (+150.00)."""
    assert upto in STAGES
    reached = STAGES.index(upto)
    status = Signal.Status.PENDING if reached == 0 else Signal.Status.APPROVED
    signal, event = webhook_signal(symbol=symbol, at=at, status=status, is_test=is_test)
    rows = Lifecycle(signal=signal, event=event)
    if reached < 1:
        return rows
    decided = at + timedelta(seconds=2)
    experiment = Experiment.objects.create(signal=signal, variant="A", assignment_hash="0" * 64,
                                           split_percentage=D("0"), created_at=decided)
    signal.experiment_id = experiment.experiment_id
    signal.save(update_fields=["experiment_id"])
    rows.experiment = experiment
    ExecutionPolicy.objects.create(experiment=experiment, execution_mode="ENGINE_A_PRIMARY", executed_engine="A",
                                   shadow_engine="B", reason="variant A executes; B shadow", created_at=decided)
    RefactoredSignal.objects.create(
        signal=signal, enriched_data={"currentPrice": "601.20", "confluence": {"score": 72}},
        risk_check_result={
            "outcome": "approved", "reason": None, "detail": "engine A entered (tier 3)", "gates": GATES,
            "engines": [{"engine": "A", "decision": "enter", "reason": None, "quantity": 2},
                        {"engine": "B", "decision": "hold", "reason": "quorum_not_met_need_3_got_2", "quantity": 0}],
            "sizing": {"steps": [{"step": "base", "multiplier": "1", "quantity": 10},
                                 {"step": "confluence", "multiplier": "0.25", "quantity": 2}], "final": 2},
            "policy": {"mode": "ENGINE_A_PRIMARY"},
            "portfolio": {"openPositions": 0}, "biasState": {"bias": "BULLISH", "biasScore": "62.5"},
        },
        processed_at=decided,
    )
    MarketContext.objects.create(signal=signal, timestamp=decided, symbol=symbol, current_price=D("601.20"),
                                 bid=D("601.19"), ask=D("601.21"), volume=12000, indicators={"rsi": 55.1},
                                 context_hash="c" * 64, created_at=decided)
    for engine, shadow, decision, reason in (("A", False, "enter", None), ("B", True, "hold", "quorum_not_met_need_3_got_2")):
        DecisionRecommendation.objects.create(
            experiment=experiment, engine=engine, signal=signal, symbol=symbol, direction="long", timeframe="15m",
            strike=D("602") if decision == "enter" else None, expiration=EXPIRY if decision == "enter" else None,
            quantity=2 if decision == "enter" else None, entry_price=D("2.0000") if decision == "enter" else None,
            is_shadow=shadow, decision=decision, reason=reason, created_at=decided,
        )
    for name, bias, confidence, block in (("technical", "bullish", 70, False), ("orb", "neutral", 40, False),
                                          ("meta_decision", "bullish", 55, True)):
        AgentDecision.objects.create(
            experiment=experiment, signal=signal, engine="B", agent_name=name,
            agent_type="core" if name == "meta_decision" else "specialist", bias=bias, confidence=confidence,
            reasons=[f"{name} says {bias}"], block=block, created_at=decided,
        )
    if reached < 2:
        return rows
    ordered = at + timedelta(seconds=3)
    contract = {"symbol": symbol, "option_symbol": f"{symbol}-20260410-C-602", "occ_symbol": f"{symbol}260410C00602000",
                "strike": D("602"), "expiration": EXPIRY, "type": "call"}
    order = Order.objects.create(signal=signal, side=Order.Side.ENTRY, quantity=2, engine="A",
                                 experiment_id=experiment.experiment_id, status=Order.Status.PENDING_EXECUTION,
                                 is_test=is_test, created_at=ordered, updated_at=ordered, **contract)
    rows.entry_order = order
    if reached < 3:
        return rows
    filled = at + timedelta(seconds=4)
    order.status = Order.Status.FILLED
    order.save(update_fields=["status"])
    rows.entry_trade = Trade.objects.create(order=order, fill_price=D("2.0000"), fill_quantity=2,
                                            fill_timestamp=filled, bid=D("1.95"), ask=D("2.05"), engine="A",
                                            experiment_id=experiment.experiment_id, is_test=is_test, created_at=filled)
    position = Position.objects.create(
        entry_order=order, quantity=2, initial_quantity=2, entry_price=D("2.0000"), current_price=D("2.2000"),
        underlying_entry_price=D("601.20"), unrealized_pnl=D("40.00"), position_pnl_percent=D("10.00"),
        high_water_mark=D("2.3000"), entry_timestamp=filled, last_updated=filled + timedelta(minutes=1),
        engine="A", experiment_id=experiment.experiment_id, setup_type="SCALP", entry_bias_score=D("62.5"),
        is_test=is_test, created_at=filled, **contract,
    )
    rows.position = position
    rows.performance = BiasTradePerformance.objects.create(
        position=position, symbol=symbol, direction="long", engine="A", entry_bias_score=D("62.5"),
        source="live", created_at=filled,
    )
    if reached < 4:
        return rows
    # A partial exit (1 contract @ 2.50: +50.00), then the final exit order.
    partial_at = at + timedelta(minutes=20)
    partial = Order.objects.create(position=position, side=Order.Side.EXIT, quantity=1, engine="A",
                                   status=Order.Status.FILLED, exit_reason="partial_profit_rung_1",
                                   exit_reason_codes=["partial_profit_rung_1"], is_test=is_test,
                                   created_at=partial_at, updated_at=partial_at, **contract)
    Trade.objects.create(order=partial, fill_price=D("2.5000"), fill_quantity=1, fill_timestamp=partial_at,
                         realized_pnl=D("50.00"), engine="A", is_test=is_test, created_at=partial_at)
    final_at = at + timedelta(minutes=40)
    final = Order.objects.create(position=position, side=Order.Side.EXIT, quantity=1, engine="A",
                                 status=Order.Status.PENDING_EXECUTION, exit_reason="profit_target",
                                 exit_reason_codes=["profit_target", "trailing_stop"], is_test=is_test,
                                 created_at=final_at, updated_at=final_at, **contract)
    rows.exit_orders = [partial, final]
    Position.objects.filter(pk=position.pk).update(
        quantity=1, realized_pnl=D("50.00"), status=Position.Status.CLOSING, partials_taken=["rung_1"],
        exit_reason="profit_target", exit_reason_codes=["profit_target", "trailing_stop"])
    if reached < 5:
        position.refresh_from_db()
        return rows
    closed_at = final_at + timedelta(seconds=5)
    Order.objects.filter(pk=final.pk).update(status=Order.Status.FILLED)
    Trade.objects.create(order=final, fill_price=D("3.0000"), fill_quantity=1, fill_timestamp=closed_at,
                         realized_pnl=D("100.00"), engine="A", is_test=is_test, created_at=closed_at)
    Position.objects.filter(pk=position.pk).update(
        quantity=0, realized_pnl=D("150.00"), unrealized_pnl=D("0.00"), status=Position.Status.CLOSED,
        exit_price=D("3.0000"), exit_timestamp=closed_at)
    BiasTradePerformance.objects.filter(pk=rows.performance.pk).update(
        realized_pnl=D("150.00"), pnl_percent=D("37.50"), pnl_r=D("0.75"), duration_minutes=40,
        exit_reason_codes=["profit_target", "trailing_stop"], closed_at=closed_at)
    position.refresh_from_db()
    rows.performance.refresh_from_db()
    return rows
