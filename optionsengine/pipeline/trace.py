"""One alert from request to realized P&L (SPEC §0 principle 5, §13): the trace selector.

`get_signal_trace(signal_id)` gathers every row the pipeline wrote for one signal —
webhook_events → signal (status, reason, lifecycle fields) → refactored_signals trail (gates,
engines, sizing, policy) → experiment, policy, recommendations A and B, agent votes → entry order
→ its trade → position (marks, exits, partials) → exit orders and their fills → realized P&L →
bias_trade_performance — in a fixed number of queries (6, whatever the trace holds), and names
the stage where the signal stopped and why (`SignalTrace.stage`, `.state`, `.summary`).

Read-only and cross-app, which is why it lives in the pipeline layer. Consumers: `GET
/api/trace/<id>`, the `/ops/trace/<id>` page and `manage.py trace_signal <id>` (`render_text`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch

from optionsengine.lib import clock
from optionsengine.pipeline import create_orders
from orders_app.models import Order, Trade
from positions_app.models import Position
from signals_app.models import AgentDecision, DecisionRecommendation, Signal, WebhookEvent

# Stages, in pipeline order (`SignalTrace.stage` is one of them).
WEBHOOK = "webhook"
ORCHESTRATOR = "orchestrator"
ORDER_CREATOR = "order_creator"
EXECUTOR = "executor"
POSITION = "position"
EXIT = "exit"
CLOSED = "closed"
STAGES = (WEBHOOK, ORCHESTRATOR, ORDER_CREATOR, EXECUTOR, POSITION, EXIT, CLOSED)

# Where a signal can be (`SignalTrace.state`).
REJECTED = "rejected"  # final: a stage refused it
FAILED = "failed"  # final: its entry order failed / expired / was cancelled
WAITING = "waiting"  # a stage has work to do on it
OPEN = "open"
CLOSING = "closing"
DONE = "closed"  # final: position closed, P&L realized

# Step states (`TraceStep.state`).
STEP_DONE = "done"
STEP_STOPPED = "stopped"
STEP_WAITING = "waiting"
STEP_NOT_REACHED = "not_reached"


@dataclass(frozen=True)
class TraceStep:
    stage: str
    state: str
    at: datetime | None
    summary: str


@dataclass(frozen=True)
class ExitLeg:
    order: Order
    trade: Trade | None


@dataclass
class SignalTrace:
    signal: Signal
    webhook_events: list[WebhookEvent]
    trail: dict
    recommendations: list[DecisionRecommendation]
    agent_votes: list[AgentDecision]
    entry_order: Order | None
    entry_trade: Trade | None
    position: Position | None
    exits: list[ExitLeg]
    performance: Any  # bias_app.models.BiasTradePerformance | None
    stage: str = WEBHOOK
    state: str = WAITING
    reason: str | None = None
    summary: str = ""
    steps: list[TraceStep] = field(default_factory=list)

    @property
    def refactored(self):
        return _related(self.signal, "refactored")

    @property
    def market_context(self):
        return _related(self.signal, "market_context")

    @property
    def experiment(self):
        return _related(self.signal, "experiment")

    @property
    def policy(self):
        experiment = self.experiment
        return _related(experiment, "execution_policy") if experiment is not None else None

    @property
    def realized_pnl(self) -> Decimal | None:
        """Σ realized P&L of the exit fills so far (the position's `realized_pnl` once filled)."""
        if self.position is not None:
            return self.position.realized_pnl
        return None

    @property
    def final(self) -> bool:
        return self.state in (REJECTED, FAILED, DONE)


def _related(obj, name: str):
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def _trace_queryset():
    return Signal.objects.select_related("refactored", "market_context", "experiment__execution_policy").prefetch_related(
        Prefetch("webhook_events", queryset=WebhookEvent.objects.order_by("created_at")),
        Prefetch("recommendations", queryset=DecisionRecommendation.objects.order_by("engine")),
        Prefetch("agent_decisions", queryset=AgentDecision.objects.order_by("engine", "agent_type", "agent_name")),
        Prefetch(
            "orders",
            queryset=Order.objects.filter(side=Order.Side.ENTRY).select_related("trade", "opened_position__performance"),
        ),
        Prefetch("orders__opened_position__exit_orders",
                 queryset=Order.objects.select_related("trade").order_by("created_at")),
    )


def parse_signal_id(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value).strip())
    except (TypeError, ValueError, AttributeError):
        return None


def get_signal_trace(signal_id, *, now: datetime | None = None) -> SignalTrace | None:
    """The whole trace of one signal, or None for an unknown (or malformed) id. 6 queries."""
    pk = parse_signal_id(signal_id)
    if pk is None:
        return None
    signal = _trace_queryset().filter(pk=pk).first()
    if signal is None:
        return None
    entry_order = next(iter(signal.orders.all()), None)
    position = _related(entry_order, "opened_position") if entry_order is not None else None
    exits = [ExitLeg(order, _related(order, "trade")) for order in position.exit_orders.all()] if position else []
    refactored = _related(signal, "refactored")
    trace = SignalTrace(
        signal=signal,
        webhook_events=list(signal.webhook_events.all()),
        trail=(refactored.risk_check_result if refactored is not None else None) or {},
        recommendations=list(signal.recommendations.all()),
        agent_votes=list(signal.agent_decisions.all()),
        entry_order=entry_order,
        entry_trade=_related(entry_order, "trade") if entry_order is not None else None,
        position=position,
        exits=exits,
        performance=_related(position, "performance") if position is not None else None,
    )
    _locate(trace, now or clock.now())
    return trace


# ---- where did it stop? ----


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "—"


def _stop(trace: SignalTrace, stage: str, state: str, summary: str, reason: str | None = None) -> None:
    trace.stage, trace.state, trace.summary, trace.reason = stage, state, summary, reason


def _locate(trace: SignalTrace, now: datetime) -> None:
    """Set stage / state / reason / summary and the per-stage steps."""
    signal = trace.signal
    if signal.status == Signal.Status.REJECTED:
        _rejected(trace)
    elif signal.status == Signal.Status.PENDING:
        _pending(trace, now)
    else:
        _approved(trace)
    trace.steps = _steps(trace)


def _rejected(trace: SignalTrace) -> None:
    reason = trace.signal.rejection_reason or "unknown"
    detail = trace.trail.get("detail") if trace.trail.get("reason") == trace.signal.rejection_reason else None
    if reason.startswith(create_orders.FAILED):
        _stop(trace, ORDER_CREATOR, REJECTED, f"rejected by the order creator: {reason}", reason)
        return
    summary = f"rejected by the orchestrator: {reason}"
    if detail:
        summary += f" — {detail}"
    _stop(trace, ORCHESTRATOR, REJECTED, summary, reason)


def _pending(trace: SignalTrace, now: datetime) -> None:
    signal = trace.signal
    reason = signal.rejection_reason  # interim reason while deferred / retrying / waiting
    if signal.processing_lock:
        summary = f"being decided by the orchestrator (claimed by {signal.locked_by} at {_when(signal.locked_at)})"
    elif signal.queued_until is not None and signal.queued_until > now:
        summary = f"queued until {_when(signal.queued_until)} ({signal.queue_reason or 'queued'})"
        reason = reason or signal.queue_reason
    elif signal.next_retry_at is not None and reason:
        summary = (f"deferred by the orchestrator: {reason}; next look at {_when(signal.next_retry_at)} "
                   f"(attempts {signal.processing_attempts}, waits {signal.wait_attempts})")
    else:
        summary = "pending, waiting for the orchestrator"
    _stop(trace, ORCHESTRATOR, WAITING, summary, reason)


def _approved(trace: SignalTrace) -> None:
    signal, order, position = trace.signal, trace.entry_order, trace.position
    if order is None:
        if signal.next_retry_at is not None:
            summary = (f"approved, order creation retrying at {_when(signal.next_retry_at)} "
                       f"(attempts {signal.processing_attempts})")
        else:
            summary = "approved, waiting for the order creator"
        _stop(trace, ORDER_CREATOR, WAITING, summary)
        return
    if order.status == Order.Status.PENDING_EXECUTION:
        summary = "order pending execution"
        if order.failure_reason:
            summary += f" (attempt {order.attempts}: {order.failure_reason})"
        _stop(trace, EXECUTOR, WAITING, summary, order.failure_reason)
        return
    if order.status != Order.Status.FILLED:
        reason = order.failure_reason or order.status
        _stop(trace, EXECUTOR, FAILED, f"entry order {order.status}: {reason}", reason)
        return
    if position is None:
        _stop(trace, EXECUTOR, FAILED, "entry order filled but no position was recorded", "position_missing")
        return
    pending_exit = next((leg.order for leg in trace.exits if leg.order.status == Order.Status.PENDING_EXECUTION), None)
    if position.status == Position.Status.CLOSED:
        summary = f"closed: {money(position.realized_pnl)}"
        if position.exit_reason:
            summary += f" ({position.exit_reason})"
        _stop(trace, CLOSED, DONE, summary, position.exit_reason)
    elif pending_exit is not None:
        what = "closing" if position.status == Position.Status.CLOSING else "partial exit"
        _stop(trace, EXIT, CLOSING,
              f"{what}: exit order pending execution ({pending_exit.quantity} × {pending_exit.exit_reason or 'exit'})",
              pending_exit.exit_reason)
    elif position.status == Position.Status.CLOSING:
        _stop(trace, EXIT, CLOSING, "closing, waiting for an exit order", position.exit_reason)
    else:
        summary = (f"position open: {position.quantity} × {position.option_symbol}, "
                   f"unrealized {money(position.unrealized_pnl)}")
        if position.realized_pnl:
            summary += f", realized so far {money(position.realized_pnl)}"
        _stop(trace, POSITION, OPEN, summary)


def _steps(trace: SignalTrace) -> list[TraceStep]:
    """One line per stage: done, where it stopped (stopped / waiting) or not reached."""
    signal, refactored = trace.signal, trace.refactored
    order, trade, position = trace.entry_order, trace.entry_trade, trace.position
    accepted = next((e for e in trace.webhook_events if e.status == WebhookEvent.Status.ACCEPTED), None)
    received_at = accepted.created_at if accepted is not None else signal.created_at
    done: dict[str, TraceStep] = {
        WEBHOOK: TraceStep(WEBHOOK, STEP_DONE, received_at,
                           f"accepted: {signal.symbol} {signal.direction} {signal.timeframe}"
                           + (" (test)" if signal.is_test else "")),
    }
    if signal.status == Signal.Status.APPROVED or trace.stage == ORDER_CREATOR:
        engine = order.engine if order is not None else (trace.policy.executed_engine if trace.policy else None)
        done[ORCHESTRATOR] = TraceStep(ORCHESTRATOR, STEP_DONE, refactored.processed_at if refactored else None,
                                       "approved" + (f" (engine {engine})" if engine else ""))
    if order is not None:
        done[ORDER_CREATOR] = TraceStep(ORDER_CREATOR, STEP_DONE, order.created_at,
                                        f"entry order {order.quantity} × {order.option_symbol}")
    if trade is not None:
        done[EXECUTOR] = TraceStep(EXECUTOR, STEP_DONE, trade.fill_timestamp,
                                   f"filled {trade.fill_quantity} @ {trade.fill_price}")
    if position is not None:
        done[POSITION] = TraceStep(POSITION, STEP_DONE, position.entry_timestamp,
                                   f"opened {position.initial_quantity} @ {position.entry_price}; "
                                   f"last mark {position.current_price or '—'} at {_when(position.last_updated)}")
        filled_exits = [leg for leg in trace.exits if leg.trade is not None]
        if filled_exits:
            last = filled_exits[-1].trade
            done[EXIT] = TraceStep(EXIT, STEP_DONE, last.fill_timestamp,
                                   f"{len(filled_exits)} exit fill(s), "
                                   + ", ".join(f"{leg.trade.fill_quantity} @ {leg.trade.fill_price} "
                                               f"({leg.order.exit_reason or 'exit'})" for leg in filled_exits))
    if position is not None and position.status == Position.Status.CLOSED:
        done[CLOSED] = TraceStep(CLOSED, STEP_DONE, position.exit_timestamp,
                                 f"realized {money(position.realized_pnl)}")
    steps = []
    for stage in STAGES:
        if stage == trace.stage and trace.state != DONE:
            current = STEP_WAITING if trace.state in (WAITING, OPEN, CLOSING) else STEP_STOPPED
            at = done[stage].at if stage in done else None
            if at is None and stage == ORCHESTRATOR and refactored is not None:
                at = refactored.processed_at
            steps.append(TraceStep(stage, current, at, trace.summary))
        elif stage in done:
            steps.append(done[stage])
        else:
            steps.append(TraceStep(stage, STEP_NOT_REACHED, None, ""))
    return steps


# ---- text (manage.py trace_signal) ----


def _line(label: str, value) -> str:
    return f"  {label:<22} {'—' if value is None or value == '' else value}"


def render_text(trace: SignalTrace) -> str:
    """A plain-text trace for terminals: the verdict first, then every stage's rows."""
    s = trace.signal
    out = [
        f"signal {s.signal_id}: {s.symbol} {s.direction} {s.timeframe}" + (" (test)" if s.is_test else ""),
        f"stopped at: {trace.stage} ({trace.state})",
        f"why: {trace.summary}",
        "",
        "stages:",
    ]
    out += [f"  [{step.state:<11}] {step.stage:<13} {_when(step.at) if step.at else '':<25} {step.summary}".rstrip()
            for step in trace.steps]
    out += ["", f"webhook events ({len(trace.webhook_events)}):"]
    out += [f"  {_when(e.created_at)} {e.status} request {e.request_id}"
            + (f" {e.processing_time_ms} ms" if e.processing_time_ms is not None else "")
            + (f" — {e.error_message}" if e.error_message else "") for e in trace.webhook_events]
    out += ["", "signal:"]
    out += [_line(name, getattr(s, name)) for name in (
        "status", "rejection_reason", "timestamp", "created_at", "processed", "processing_attempts", "wait_attempts",
        "next_retry_at", "queued_until", "queue_reason", "locked_by", "experiment_id")]
    trail = trace.trail
    out += ["", "decision:"]
    if not trail and trace.refactored is None:
        out.append("  not decided yet")
    else:
        out += [_line("outcome", trail.get("outcome")), _line("reason", trail.get("reason")),
                _line("detail", trail.get("detail")),
                _line("decided at", _when(trace.refactored.processed_at) if trace.refactored else None)]
        gates = trail.get("gates")
        if gates is None:
            out.append("  gates: none ran (settled before the gates)")
        for gate in gates or ():
            verdict = "passed" if gate.get("passed") else "BLOCKED"
            extra = " — ".join(str(x) for x in (gate.get("reason"), gate.get("detail")) if x)
            out.append(f"  gate {gate.get('name')}: {verdict}" + (f" ({extra})" if extra else ""))
        sizing = trail.get("sizing") or {}
        for step in sizing.get("steps") or ():
            out.append(f"  sizing {step.get('step')}: × {step.get('multiplier')} → {step.get('quantity')}")
    experiment, policy = trace.experiment, trace.policy
    if experiment is not None:
        out += ["", f"experiment {experiment.experiment_id}: variant {experiment.variant}"
                + (f", policy {policy.execution_mode} (executed {policy.executed_engine or '—'}, "
                   f"shadow {policy.shadow_engine or '—'}): {policy.reason}" if policy else "")]
    for rec in trace.recommendations:
        out.append(f"  engine {rec.engine} {'shadow' if rec.is_shadow else 'executed'}: {rec.decision}"
                   f" {rec.reason or ''} strike {rec.strike or '—'} exp {rec.expiration or '—'} qty {rec.quantity or '—'}"
                   .rstrip())
    if trace.agent_votes:
        out += ["", f"agent votes ({len(trace.agent_votes)}):"]
        out += [f"  {v.engine} {v.agent_name}: {v.bias} {v.confidence}" + (" BLOCK" if v.block else "")
                + (f" — {', '.join(map(str, v.reasons))}" if v.reasons else "") for v in trace.agent_votes]
    order, trade, position = trace.entry_order, trace.entry_trade, trace.position
    if order is not None:
        out += ["", f"entry order {order.order_id}: {order.status} {order.quantity} × {order.option_symbol} "
                    f"engine {order.engine or '—'} attempts {order.attempts}"
                + (f" — {order.failure_reason}" if order.failure_reason else "")]
        if trade is not None:
            out.append(f"  fill {trade.fill_quantity} @ {trade.fill_price} at {_when(trade.fill_timestamp)} "
                       f"(bid {trade.bid or '—'} ask {trade.ask or '—'})")
    if position is not None:
        out += ["", f"position {position.position_id}: {position.status} {position.quantity}/{position.initial_quantity} "
                    f"× {position.option_symbol} entry {position.entry_price}",
                _line("current / hwm / trail", f"{position.current_price or '—'} / {position.high_water_mark or '—'} / "
                                               f"{position.trailing_stop_price or '—'}"),
                _line("unrealized P&L", money(position.unrealized_pnl)),
                _line("realized P&L", money(position.realized_pnl)),
                _line("exit reason", position.exit_reason),
                _line("exit reason codes", ", ".join(position.exit_reason_codes or [])),
                _line("partials taken", ", ".join(map(str, position.partials_taken or []))),
                _line("exit price / time", f"{position.exit_price or '—'} / {_when(position.exit_timestamp)}")]
        for leg in trace.exits:
            o = leg.order
            line = f"  exit order {o.order_id}: {o.status} {o.quantity} × {o.exit_reason or 'exit'}"
            if leg.trade is not None:
                line += f" — filled {leg.trade.fill_quantity} @ {leg.trade.fill_price}, P&L {money(leg.trade.realized_pnl)}"
            elif o.failure_reason:
                line += f" — {o.failure_reason}"
            out.append(line)
    perf = trace.performance
    if perf is not None:
        out += ["", f"trade performance: realized {money(perf.realized_pnl)}, {perf.pnl_percent or '—'} %, "
                    f"R {perf.pnl_r or '—'}, {perf.duration_minutes or '—'} min, source {perf.source}"]
    return "\n".join(out) + "\n"
