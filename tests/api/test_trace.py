"""The trace selector (optionsengine/pipeline/trace.py): every row of one alert, the stage where it
stopped and why, in a constant number of queries."""

from __future__ import annotations

import uuid
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from optionsengine.pipeline import orchestrate, trace
from optionsengine.pipeline.trace import get_signal_trace
from orders_app.models import Order
from signals_app.models import Signal, WebhookEvent
from tests.api.builders import GATES, NOW, lifecycle, rejected, webhook_signal

pytestmark = pytest.mark.django_db


def test_unknown_and_malformed_ids_have_no_trace():
    assert get_signal_trace("00000000-0000-0000-0000-000000000000") is None
    assert get_signal_trace("not-a-uuid") is None


def test_a_gate_rejection_by_the_real_orchestrator_names_the_gate():
    """No bias state for a real (non-test) signal: the first gate blocks (`mtf_bias_missing`)."""
    signal, _ = webhook_signal(timeframe="15m")
    with mock.patch("optionsengine.pipeline.orchestrate.after_commit"):
        orchestrate.sweep(now=NOW)
    signal.refresh_from_db()
    assert (signal.status, signal.rejection_reason) == ("rejected", "mtf_bias_missing")

    found = get_signal_trace(signal.signal_id)
    assert (found.stage, found.state, found.reason, found.final) == ("orchestrator", "rejected", "mtf_bias_missing", True)
    assert found.summary.startswith("rejected by the orchestrator: mtf_bias_missing")
    gate = next(g for g in found.trail["gates"] if not g["passed"])
    assert gate["reason"] == "mtf_bias_missing"
    steps = {s.stage: s.state for s in found.steps}
    assert steps == {"webhook": "done", "orchestrator": "stopped", "order_creator": "not_reached",
                     "executor": "not_reached", "position": "not_reached", "exit": "not_reached",
                     "closed": "not_reached"}
    assert found.entry_order is None and found.position is None and found.realized_pnl is None


def test_an_engine_rejection_carries_its_rules_and_detail():
    blocked = [*GATES]
    signal = rejected("entry_tier_block:VOLATILITY_MISMATCH", "IV rank 92 outside 20–80 for SCALP", gates=blocked)
    found = get_signal_trace(str(signal.signal_id))
    assert found.summary == ("rejected by the orchestrator: entry_tier_block:VOLATILITY_MISMATCH — "
                             "IV rank 92 outside 20–80 for SCALP")
    assert found.stage == "orchestrator"


def test_an_order_creation_failure_stops_at_the_order_creator():
    signal = rejected("order_creation_failed:no_underlying_price", "")
    found = get_signal_trace(signal.signal_id)
    assert (found.stage, found.state) == ("order_creator", "rejected")
    assert found.summary == "rejected by the order creator: order_creation_failed:no_underlying_price"


@pytest.mark.parametrize(("upto", "stage", "state", "summary"), [
    ("pending", "orchestrator", "waiting", "pending, waiting for the orchestrator"),
    ("approved", "order_creator", "waiting", "approved, waiting for the order creator"),
    ("ordered", "executor", "waiting", "order pending execution"),
    ("open", "position", "open", "position open: 2 × SPY-20260410-C-602, unrealized +40.00"),
    ("closing", "exit", "closing", "closing: exit order pending execution (1 × profit_target)"),
    ("closed", "closed", "closed", "closed: +150.00 (profit_target)"),
])
def test_each_stage_of_an_approved_signal_is_named(upto, stage, state, summary):
    rows = lifecycle(upto=upto)
    found = get_signal_trace(rows.signal.signal_id)
    assert (found.stage, found.state, found.summary) == (stage, state, summary)


def test_the_closed_trace_holds_every_row_from_request_to_realized_pnl():
    rows = lifecycle(upto="closed")
    found = get_signal_trace(rows.signal.signal_id)
    assert [e.event_id for e in found.webhook_events] == [rows.event.event_id]
    assert found.experiment.variant == "A" and found.policy.execution_mode == "ENGINE_A_PRIMARY"
    assert [(r.engine, r.is_shadow) for r in found.recommendations] == [("A", False), ("B", True)]
    assert {v.agent_name for v in found.agent_votes} == {"technical", "orb", "meta_decision"}
    assert found.market_context.current_price == Decimal("601.20")
    assert found.entry_order.pk == rows.entry_order.pk and found.entry_trade.fill_price == Decimal("2.0000")
    assert [(leg.order.exit_reason, leg.trade.realized_pnl) for leg in found.exits] == [
        ("partial_profit_rung_1", Decimal("50.00")), ("profit_target", Decimal("100.00"))]
    assert found.realized_pnl == Decimal("150.00") == sum(leg.trade.realized_pnl for leg in found.exits)
    assert found.performance.realized_pnl == Decimal("150.00")
    assert all(step.state == "done" for step in found.steps)


def test_an_entry_order_that_failed_is_final():
    rows = lifecycle(upto="ordered")
    Order.objects.filter(pk=rows.entry_order.pk).update(status="expired", failure_reason="expired after 30 min")
    found = get_signal_trace(rows.signal.signal_id)
    assert (found.stage, found.state, found.summary) == ("executor", "failed", "entry order expired: expired after 30 min")


def test_a_deferred_signal_says_why_and_until_when():
    signal, _ = webhook_signal()
    Signal.objects.filter(pk=signal.pk).update(rejection_reason="max_open_positions_exceeded",
                                               next_retry_at=NOW.replace(minute=31))
    found = get_signal_trace(signal.signal_id, now=NOW)
    assert found.state == "waiting"
    assert found.summary.startswith("deferred by the orchestrator: max_open_positions_exceeded; next look at 2026-03-13T14:31")


@pytest.mark.parametrize("upto", ["pending", "closed"])
def test_the_trace_takes_a_constant_number_of_queries(upto):
    small = lifecycle(upto=upto)
    with CaptureQueriesContext(connection) as few:
        get_signal_trace(small.signal.signal_id)
    big = lifecycle(upto="closed")
    for _ in range(5):  # more events and exit legs must not add queries
        WebhookEvent.objects.create(request_id=uuid.uuid4(), kind="signal", status="duplicate", signal=big.signal,
                                    created_at=NOW)
        Order.objects.create(position=big.position, side="exit", quantity=1, status="cancelled",
                             symbol="SPY", option_symbol="x", occ_symbol="x", strike=1, expiration=NOW.date(),
                             type="call", created_at=NOW, updated_at=NOW)
    with CaptureQueriesContext(connection) as many:
        found = get_signal_trace(big.signal.signal_id)
        trace.render_text(found)
    assert len(found.exits) == 7 and len(found.webhook_events) == 6
    assert len(few) <= 6 and len(many) == 6  # the signal, events, recommendations, votes, orders, exit orders


def test_render_text_names_the_stop_and_lists_the_rows():
    text = trace.render_text(get_signal_trace(lifecycle(upto="closed").signal.signal_id))
    assert "stopped at: closed (closed)" in text
    assert "why: closed: +150.00 (profit_target)" in text
    assert "gate mtf_bias_missing: passed" in text
    assert "exit order" in text and "P&L +100.00" in text and "P&L +50.00" in text
    assert any(line.split() == ["exit", "reason", "codes", "profit_target,", "trailing_stop"] for line in text.splitlines())
