"""Bias payloads through the real HTTP endpoints: answers and the one audit row per request.

Every case runs three times: with a working local cache, with Redis stopped and with a cache that
raises on every call (`any_cache`), because the bias path must never need the cache.
"""

from __future__ import annotations

import orjson
import pytest

from bias_app.models import BiasStateCurrent, BiasStateHistory
from signals_app.models import Signal, WebhookEvent
from tests.bias_app.builders import BASE_TS_MS, v1_payload, v3_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("now", "any_cache")]

ENDPOINTS = ["/webhook", "/api/webhooks/mtf-bias"]


@pytest.fixture(params=ENDPOINTS)
def send(request, client):
    def post(payload: dict):
        response = client.post(request.param, data=orjson.dumps(payload), content_type="application/json")
        return response.status_code, response.json()

    return post


def audit_rows() -> list[tuple[str, str, str | None]]:
    """(kind, status, symbol) of every audit row, sorted (the frozen clock gives them one created_at)."""
    return sorted(WebhookEvent.objects.values_list("kind", "status", "symbol"))


def test_accepted_v3_payload(send):
    status, body = send(v3_payload())
    assert status == 200
    assert {k: body[k] for k in ("success", "symbol", "status")} == {"success": True, "symbol": "SPY", "status": "accepted"}
    assert len(body["event_id"]) == 64 and body["request_id"] and body["webhook_event_id"]
    event = WebhookEvent.objects.get()
    assert (event.kind, event.status, event.symbol, str(event.event_id)) == ("bias_v3", "accepted", "SPY", body["webhook_event_id"])
    assert BiasStateCurrent.objects.get().state_json["bias"] == "BULLISH"
    assert Signal.objects.count() == 0


def test_duplicate_resend(send):
    payload = v3_payload()
    send(payload)
    status, body = send(payload)
    assert (status, body["status"], body["success"]) == (200, "duplicate", True)
    assert [row[1] for row in audit_rows()] == ["accepted", "duplicate"]  # sorted, one of each
    assert BiasStateHistory.objects.count() == 1


def test_out_of_order_event(send):
    send(v3_payload(ts_ms=BASE_TS_MS))
    status, body = send(v3_payload({"mtf.consensus.bias_consensus": "BEARISH"}, ts_ms=BASE_TS_MS - 60_000))
    assert (status, body["status"]) == (200, "out_of_order")
    assert WebhookEvent.objects.filter(status="out_of_order", kind="bias_v3").count() == 1
    assert BiasStateCurrent.objects.get().state_json["bias"] == "BULLISH"


def test_equal_timestamps_are_out_of_order(send):
    send(v3_payload(ts_ms=BASE_TS_MS))
    status, body = send(v3_payload({"event_type": "ORB_UPDATE"}, ts_ms=BASE_TS_MS))
    assert (status, body["status"]) == (200, "out_of_order")
    assert BiasStateCurrent.objects.get().event_id_raw.endswith("BIAS_SNAPSHOT")


def test_invalid_enum_is_a_422_with_field_details(send):
    status, body = send(v3_payload({"intent.trend_phase": "SUPER_LATE"}))
    assert status == 422
    assert body["error"] == "Invalid payload"
    assert body["details"] == [{"field": "intent.trend_phase", "message": "must be one of EARLY, MID, LATE, RANGE"}]
    event = WebhookEvent.objects.get()
    assert (event.kind, event.status, event.symbol) == ("bias_v3", "invalid_payload", "SPY")
    assert "intent.trend_phase" in event.error_message
    assert not BiasStateHistory.objects.exists()


def test_wrong_source_on_a_v3_shaped_payload_is_a_422(send):
    status, body = send(v3_payload({"source": "SOME_OTHER_ENGINE"}))
    assert status == 422
    assert body["details"] == [{"field": "source", "message": "must be MTF_BIAS_ENGINE_V3"}]
    assert audit_rows() == [("bias_v3", "invalid_payload", "SPY")]


def test_v1_payload_accepted_and_resent(send):
    payload = v1_payload()
    first_status, first = send(payload)
    second_status, second = send(payload)
    assert (first_status, first["status"], first["symbol"]) == (200, "accepted", "QQQ")
    assert (second_status, second["status"], second["event_id"]) == (200, "duplicate", first["event_id"])
    assert audit_rows() == [("bias_legacy", "accepted", "QQQ"), ("bias_legacy", "duplicate", "QQQ")]
    assert BiasStateHistory.objects.get().source == "MTF_BIAS_ENGINE_V1"
    assert BiasStateCurrent.objects.get(symbol="QQQ").state_json["bias"] == "BEARISH"


@pytest.mark.parametrize("event_type", ["BIAS_CHANGE", "ORB_UPDATE"])
def test_v1_events_other_than_snapshots_are_bias_not_trade_signals(send, event_type):
    status, body = send(v1_payload({"event_type": event_type}))
    assert (status, body["status"]) == (200, "accepted")
    assert audit_rows() == [("bias_legacy", "accepted", "QQQ")]
