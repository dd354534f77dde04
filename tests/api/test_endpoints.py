"""GET /api/signals, /signals/<id>, /orders, /trades, /positions, /trace/<id>: token auth, filters,
pagination, 400/404, decimals as strings."""

from __future__ import annotations

import pytest

from tests.api.builders import lifecycle, rejected, webhook_signal

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/signals", "/api/signals/00000000-0000-0000-0000-000000000000", "/api/orders", "/api/trades",
             "/api/positions", "/api/monitoring/status", "/api/trace/00000000-0000-0000-0000-000000000000",
             "/api/bias/adaptive/history", "/api/bias/adaptive/status"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_token_or_a_bad_token_is_401(client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, HTTP_AUTHORIZATION="Token not-a-real-token").status_code == 401
    assert client.get(path, HTTP_AUTHORIZATION="Bearer not-a-real-token").status_code == 401


def test_bearer_tokens_work_too(client, token):
    assert client.get("/api/signals", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_signals_list_filters_and_paginates(api):
    closed = lifecycle(upto="closed")
    blocked = rejected("entry_tier_block:VOLATILITY_MISMATCH", "IV rank 92")
    guard = rejected("portfolio_guard_block:MAX_OPEN_TRADES", "5 open")
    test_signal, _ = webhook_signal(symbol="QQQ", is_test=True)

    body = api.get("/api/signals").json()
    assert body["count"] == 4 and len(body["results"]) == 4 and body["next"] is None
    by_reason = api.get("/api/signals?reason=entry_tier_block").json()["results"]
    assert [r["signal_id"] for r in by_reason] == [str(blocked.signal_id)]
    assert {r["signal_id"] for r in api.get("/api/signals?status=rejected").json()["results"]} == {
        str(blocked.signal_id), str(guard.signal_id)}
    assert [r["signal_id"] for r in api.get("/api/signals?symbol=nasdaq:qqq").json()["results"]] == [
        str(test_signal.signal_id)]
    assert [r["signal_id"] for r in api.get("/api/signals?is_test=true").json()["results"]] == [
        str(test_signal.signal_id)]
    assert api.get("/api/signals?is_test=false").json()["count"] == 3
    assert api.get("/api/signals?status=approved").json()["results"][0]["signal_id"] == str(closed.signal.signal_id)
    assert api.get("/api/signals?since=2026-03-13T14:00:00Z&until=2026-03-13T15:00:00Z").json()["count"] == 4
    assert api.get("/api/signals?since=2026-03-13T15:00:00Z").json()["count"] == 0

    page = api.get("/api/signals?limit=3").json()
    assert (page["count"], len(page["results"])) == (4, 3) and "offset=3" in page["next"]
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 1
    assert {r["signal_id"] for r in page["results"] + rest["results"]} == {
        r["signal_id"] for r in body["results"]}


@pytest.mark.parametrize(("query", "field"), [
    ("status=maybe", "status"), ("symbol=NOT%20A%20SYMBOL", "symbol"), ("is_test=perhaps", "is_test"),
    ("since=yesterday", "since"), ("since=2026-03-13T15:00:00Z&until=2026-03-13T14:00:00Z", "until"),
])
def test_bad_signal_filters_are_400(api, query, field):
    response = api.get(f"/api/signals?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Invalid query" and body["details"][0]["field"] == field


@pytest.mark.parametrize("path", ["/api/orders?status=sent", "/api/orders?engine=C", "/api/orders?side=both",
                                  "/api/trades?engine=Z", "/api/positions?status=gone",
                                  "/api/monitoring/status?traffic=everything", "/api/monitoring/status?window_hours=0",
                                  "/api/bias/adaptive/history?dry_run=sometimes"])
def test_bad_filters_elsewhere_are_400(api, path):
    response = api.get(path)
    assert response.status_code == 400 and response.json()["details"]


def test_signal_detail_has_the_trail_and_a_trace_link(api):
    rows = lifecycle(upto="approved")
    body = api.get(f"/api/signals/{rows.signal.signal_id}").json()
    assert body["status"] == "approved" and body["raw_payload"]["trace_id"] == "t-1"
    assert body["decision"]["trail"]["gates"][0]["name"] == "mtf_bias_missing"
    assert body["trace_url"] == f"/api/trace/{rows.signal.signal_id}"
    pending, _ = webhook_signal(symbol="IWM")
    assert api.get(f"/api/signals/{pending.signal_id}").json()["decision"] is None


@pytest.mark.parametrize("path", ["/api/signals/{}", "/api/trace/{}"])
@pytest.mark.parametrize("signal_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_unknown_ids_are_404(api, path, signal_id):
    response = api.get(path.format(signal_id))
    assert response.status_code == 404
    assert response.json() == {"error": "Signal not found", "signal_id": signal_id}


def test_orders_trades_and_positions_filter_and_show_decimals_as_strings(api):
    rows = lifecycle(upto="closed")
    other = lifecycle(upto="open", symbol="QQQ")

    orders = api.get("/api/orders").json()
    assert orders["count"] == 4
    exits = api.get("/api/orders?side=exit&status=filled").json()["results"]
    assert {o["exit_reason"] for o in exits} == {"profit_target", "partial_profit_rung_1"}
    assert all(o["strike"] == "602.0000" for o in exits)
    assert api.get("/api/orders?symbol=QQQ").json()["count"] == 1
    assert api.get("/api/orders?engine=B").json()["count"] == 0
    assert api.get(f"/api/orders?signal_id={rows.signal.signal_id}").json()["count"] == 1

    trades = api.get("/api/trades?side=exit").json()["results"]
    assert sorted(t["realized_pnl"] for t in trades) == ["100.00", "50.00"]
    assert {t["fill_price"] for t in trades} == {"2.5000", "3.0000"}
    assert api.get("/api/trades?symbol=QQQ").json()["count"] == 1

    closed = api.get("/api/positions?status=closed").json()["results"]
    assert len(closed) == 1
    position = closed[0]
    assert (position["realized_pnl"], position["entry_price"], position["exit_price"]) == ("150.00", "2.0000", "3.0000")
    assert position["exit_reason_codes"] == ["profit_target", "trailing_stop"]
    assert api.get("/api/positions?status=open&symbol=QQQ").json()["results"][0]["position_id"] == str(
        other.position.position_id)
    assert api.get("/api/positions?engine=A").json()["count"] == 2


def test_trace_endpoint_names_the_stage_and_carries_every_row(api):
    rows = lifecycle(upto="closed")
    body = api.get(f"/api/trace/{rows.signal.signal_id}").json()
    assert (body["stage"], body["state"], body["final"]) == ("closed", "closed", True)
    assert body["summary"] == "closed: +150.00 (profit_target)"
    assert body["realized_pnl"] == "150.00"
    assert [s["state"] for s in body["steps"]] == ["done"] * 7
    assert body["webhook_events"][0]["raw_payload"]["secret"] == "[REDACTED]"
    assert body["decision"]["trail"]["engines"][0]["engine"] == "A"
    assert [r["engine"] for r in body["recommendations"]] == ["A", "B"]
    assert len(body["agent_votes"]) == 3
    assert body["entry_fill"]["fill_price"] == "2.0000"
    assert [(leg["order"]["exit_reason"], leg["fill"]["realized_pnl"]) for leg in body["exits"]] == [
        ("partial_profit_rung_1", "50.00"), ("profit_target", "100.00")]
    assert body["position"]["partials_taken"] == ["rung_1"]
    assert body["performance"]["realized_pnl"] == "150.00"
    assert body["market_context"]["current_price"] == "601.2000"


def test_trace_endpoint_for_a_gate_rejection(api):
    signal = rejected("trade_suppressed_by_bias", "suppressLong: macro conflict")
    body = api.get(f"/api/trace/{signal.signal_id}").json()
    assert (body["stage"], body["state"], body["reason"]) == ("orchestrator", "rejected", "trade_suppressed_by_bias")
    assert body["summary"] == "rejected by the orchestrator: trade_suppressed_by_bias — suppressLong: macro conflict"
    assert body["entry_order"] is None and body["position"] is None and body["exits"] == []
