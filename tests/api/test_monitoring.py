"""GET /api/monitoring/status: funnel, rejections by reason, stuck stage, last activity, breakers —
in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from optionsengine.lib import clock
from optionsengine.pipeline.monitoring import monitoring_status
from signals_app.models import Signal
from tests.api.builders import NOW, lifecycle, rejected, webhook_signal

pytestmark = pytest.mark.django_db


def populate():
    lifecycle(upto="closed")
    lifecycle(upto="open", symbol="QQQ")
    lifecycle(upto="ordered", symbol="IWM")
    rejected("entry_tier_block:VOLATILITY_MISMATCH", "IV")
    rejected("entry_tier_block:VOLATILITY_MISMATCH", "IV")
    rejected("mtf_bias_missing", "no bias")
    webhook_signal(symbol="TSLA", is_test=True)


def test_status_reports_the_funnel_and_rejections(api):
    populate()
    body = api.get("/api/monitoring/status").json()
    funnel = body["funnel"]
    assert (funnel["webhooks"], funnel["signals"], funnel["approved"], funnel["rejected"], funnel["pending"]) == (
        7, 7, 3, 3, 1)
    assert (funnel["orders"], funnel["fills"], funnel["open"], funnel["closed"]) == (3, 2, 1, 1)
    assert funnel["realized_pnl"] == "150.00"
    assert funnel["webhooks_by_status"]["accepted"] == 7
    assert body["rejections_by_reason"][0] == {"reason": "entry_tier_block:VOLATILITY_MISMATCH", "count": 2,
                                               "last_at": "2026-03-13T14:30:00Z"}
    assert [r["reason"] for r in body["rejections_by_reason"]] == ["entry_tier_block:VOLATILITY_MISMATCH",
                                                                   "mtf_bias_missing"]
    assert body["last_activity"]["close"] == "2026-03-13T15:10:05Z"
    assert body["providers"]["providers"][0]["name"] == "simulated"
    assert body["market"]["session"] and body["window_hours"] == 24

    production = api.get("/api/monitoring/status?traffic=production").json()["funnel"]
    assert production["signals"] == 6
    assert api.get("/api/monitoring/status?traffic=test").json()["funnel"]["signals"] == 1


def test_the_window_excludes_older_signals(api):
    lifecycle(upto="closed")
    with clock.override(NOW + timedelta(hours=30)):
        body = api.get("/api/monitoring/status").json()
        assert body["funnel"]["signals"] == 0
        assert api.get("/api/monitoring/status?window_hours=48").json()["funnel"]["signals"] == 1


def test_the_stuck_stage_is_the_first_with_an_overdue_item():
    rows = lifecycle(upto="ordered")
    status = monitoring_status(now=NOW + timedelta(seconds=10))
    assert status["stuck_stage"] is None
    executor = next(s for s in status["stages"] if s.stage == "executor")
    assert (executor.pending, executor.oldest_id, executor.stuck) == (1, str(rows.entry_order.order_id), False)

    later = monitoring_status(now=NOW + timedelta(minutes=5))
    assert later["stuck_stage"] == "executor"
    assert next(s for s in later["stages"] if s.stage == "executor").age_seconds == 297

    webhook_signal(symbol="QQQ")  # a pending signal, due at once
    assert monitoring_status(now=NOW + timedelta(minutes=5))["stuck_stage"] == "orchestrator"


def test_parked_signals_are_not_stuck():
    signal, _ = webhook_signal()
    Signal.objects.filter(pk=signal.pk).update(queued_until=NOW + timedelta(hours=12), queue_reason="market_closed")
    status = monitoring_status(now=NOW + timedelta(hours=1))
    orchestrator = next(s for s in status["stages"] if s.stage == "orchestrator")
    assert (orchestrator.pending, status["stuck_stage"]) == (0, None)


def test_approved_signals_without_an_order_wait_for_the_order_creator():
    rows = lifecycle(upto="approved")
    status = monitoring_status(now=NOW + timedelta(minutes=10))
    stage = next(s for s in status["stages"] if s.stage == "order_creator")
    assert (stage.pending, stage.oldest_id, stage.stuck) == (1, str(rows.signal.signal_id), True)


def test_monitoring_takes_a_constant_number_of_queries(api):
    lifecycle(upto="closed")
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/monitoring/status").status_code == 200
    populate()
    populate()
    with CaptureQueriesContext(connection) as many:
        assert api.get("/api/monitoring/status").status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 22  # auth + the status's fixed set of aggregates
