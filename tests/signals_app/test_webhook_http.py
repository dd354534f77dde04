"""HTTP behaviour of POST /webhook for every response row of SPEC §3, with the audit row each writes."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import orjson
import pytest

from optionsengine.lib import clock
from signals_app.models import Signal, WebhookEvent

pytestmark = pytest.mark.django_db

ALERT = {"ticker": "NASDAQ:AAPL", "interval": "60", "direction": "LONG", "price": "189.50", "timenow": "2026-03-13T14:29:00Z"}
SECRET = "s3cr3t-value-XYZ"


def only_event() -> WebhookEvent:
    events = list(WebhookEvent.objects.all())
    assert len(events) == 1, f"expected one audit row, got {len(events)}"
    return events[0]


def test_accepted_alert_creates_a_pending_signal_and_answers_201(post_webhook, frozen_now):
    response, body = post_webhook(ALERT)
    assert response.status_code == 201
    assert body["status"] == "ACCEPTED"
    assert set(body) >= {"signal_id", "request_id", "webhook_event_id", "processing_time_ms", "is_test", "test_session_id"}
    signal = Signal.objects.get()
    assert str(signal.signal_id) == body["signal_id"]
    assert (signal.symbol, signal.direction, signal.timeframe, signal.status) == ("AAPL", "long", "1h", "pending")
    assert signal.processed is False and signal.processing_lock is False
    assert signal.created_at == frozen_now and signal.timestamp == frozen_now
    assert signal.raw_payload["trace_id"] == body["request_id"]
    expected_hash = hashlib.sha256(b"AAPL:long:1h:2026-03-13T14:30:00.000Z").hexdigest()
    assert signal.signal_hash == expected_hash
    event = only_event()
    assert str(event.event_id) == body["webhook_event_id"] and str(event.request_id) == body["request_id"]
    assert (event.status, event.kind, event.symbol, event.direction, event.timeframe) == ("accepted", "signal", "AAPL", "long", "1h")
    assert event.signal_id == signal.signal_id and event.error_message is None
    assert event.processing_time_ms is not None


def test_a_real_trend_dots_alert_with_a_string_event_is_accepted(post_webhook):
    from pathlib import Path

    raw = (Path(__file__).resolve().parents[1] / "data" / "webhooks" / "mtf_trend_dots_trend_change.json").read_bytes()
    response, body = post_webhook(raw)
    assert response.status_code == 201, body
    signal = Signal.objects.get(signal_id=body["signal_id"])
    assert (signal.symbol, signal.direction, signal.timeframe) == ("SPY", "long", "3m")
    assert signal.raw_payload["event"] == "trend_change"
    assert only_event().status == "accepted"


def test_trailing_slash_is_the_same_endpoint(post_webhook):
    response, _ = post_webhook(ALERT, path="/webhook/")
    assert response.status_code == 201


def test_same_alert_within_the_window_is_a_duplicate(post_webhook, frozen_now):
    _, first = post_webhook(ALERT)
    response, body = post_webhook({**ALERT, "interval": "1h", "ticker": "aapl"})  # same canonical key
    assert response.status_code == 200
    assert body["status"] == "DUPLICATE" and body["duplicate_of"] == first["signal_id"]
    assert body["message"] and body["request_id"] and body["webhook_event_id"]
    assert Signal.objects.count() == 1
    dup = WebhookEvent.objects.get(status="duplicate")
    assert dup.signal_id is None and dup.symbol == "AAPL"


def test_alert_after_the_window_or_with_another_key_is_accepted(post_webhook, frozen_now):
    post_webhook(ALERT)
    assert post_webhook({**ALERT, "direction": "SHORT"})[0].status_code == 201
    assert post_webhook({**ALERT, "interval": "5"})[0].status_code == 201
    assert post_webhook({**ALERT, "is_test": True})[0].status_code == 201
    with clock.override(frozen_now + timedelta(seconds=61)):
        assert post_webhook(ALERT)[0].status_code == 201
    assert Signal.objects.count() == 5


def test_test_traffic_is_marked_on_signal_and_audit(post_webhook):
    response, body = post_webhook({**ALERT, "metadata": {"is_test": True, "test_session_id": "sess-1", "test_scenario": "smoke"}})
    assert response.status_code == 201 and body["is_test"] is True and body["test_session_id"] == "sess-1"
    signal = Signal.objects.get()
    assert (signal.is_test, signal.test_session_id, signal.test_scenario) == (True, "sess-1", "smoke")
    assert signal.raw_payload["metadata"]["test_scenario"] == "smoke"  # metadata kept whole
    assert only_event().is_test is True


@pytest.mark.parametrize(
    ("payload", "error", "audit_fields"),
    [
        ({"interval": "5", "direction": "long"}, "Missing symbol", {"symbol": None}),
        ({"ticker": "SPY", "direction": "long"}, "Missing or invalid timeframe", {"symbol": "SPY", "timeframe": None}),
        ({"ticker": "SPY", "interval": "5", "direction": "neutral"}, "Missing or invalid direction",
         {"symbol": "SPY", "timeframe": "5m", "direction": None}),
        ({**ALERT, "timestamp": "not a time"}, "Invalid timestamp", {"symbol": "AAPL"}),
        ({**ALERT, "price": "abc"}, "Invalid payload", {"symbol": None}),
    ],
)
def test_validation_failures_answer_400_and_audit_invalid_payload(post_webhook, payload, error, audit_fields):
    response, body = post_webhook(payload)
    assert response.status_code == 400
    assert body["status"] == "REJECTED" and body["error"] == error and "details" in body
    assert body["request_id"] and body["webhook_event_id"]
    event = only_event()
    assert (event.status, event.error_message) == ("invalid_payload", error)
    for name, value in audit_fields.items():
        assert getattr(event, name) == value
    assert Signal.objects.count() == 0


def test_invalid_payload_lists_field_level_details(post_webhook):
    _, body = post_webhook({**ALERT, "price": "abc", "signal": 5})
    assert {d["field"] for d in body["details"]} == {"price", "signal"}


@pytest.mark.parametrize("raw", [b"BUY AAPL now", b"[1, 2]", b'"text"', b"{bad json", b""])
def test_body_that_is_not_a_json_object_answers_400_invalid_json(post_webhook, raw):
    response, body = post_webhook(raw, content_type="text/plain")
    assert response.status_code == 400 and body == {**body, "status": "REJECTED", "error": "Invalid JSON"}
    event = only_event()
    assert (event.status, event.error_message) == ("invalid_payload", "Invalid JSON")
    assert event.raw_payload["_invalid_json"] is True


def test_body_over_128_kib_answers_413_and_is_audited(post_webhook):
    response, body = post_webhook({**ALERT, "filler": "x" * (128 * 1024)})
    assert response.status_code == 413 and body["error"] == "Payload too large" and body["status"] == "REJECTED"
    event = only_event()
    assert (event.status, event.error_message) == ("invalid_payload", "Payload too large")


def test_large_payload_under_the_limit_is_stored_truncated_in_the_audit(post_webhook):
    response, _ = post_webhook({**ALERT, "notes": "y" * (40 * 1024)})
    assert response.status_code == 201
    audit = only_event().raw_payload
    assert audit["_truncated"] is True and audit["_preview"].endswith("...")
    assert Signal.objects.get().raw_payload["notes"] == "y" * (40 * 1024)  # the signal keeps it whole


def test_genuine_fault_answers_500_and_is_audited(post_webhook, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("optionsengine.pipeline.ingest.record_signal_webhook", explode)
    response, body = post_webhook(ALERT)
    assert response.status_code == 500 and body["status"] == "ERROR"
    event = only_event()
    assert event.status == "error" and "database went away" in event.error_message


def test_get_webhook_test_answers_ok(client):
    response = client.get("/webhook/test")
    assert response.status_code == 200 and response.json()["status"] == "ok"


class TestAuthentication:
    @pytest.fixture(autouse=True)
    def secret(self, settings):
        settings.WEBHOOK_SECRET = SECRET

    def test_no_credentials_answers_401_and_audits_invalid_signature(self, post_webhook):
        response, body = post_webhook(ALERT)
        assert response.status_code == 401
        assert body["status"] == "REJECTED" and body["error"] == "Invalid signature"
        assert only_event().status == "invalid_signature"
        assert Signal.objects.count() == 0

    @pytest.mark.parametrize("field", ["secret", "passphrase"])
    def test_body_secret_authenticates_tradingview(self, post_webhook, field):
        assert post_webhook({**ALERT, field: SECRET})[0].status_code == 201

    def test_wrong_body_secret_is_refused(self, post_webhook):
        assert post_webhook({**ALERT, "secret": SECRET + "x"})[0].status_code == 401

    def test_query_token_authenticates(self, post_webhook):
        assert post_webhook(ALERT, path=f"/webhook?token={SECRET}")[0].status_code == 201
        assert post_webhook({**ALERT, "direction": "short"}, path="/webhook?token=nope")[0].status_code == 401

    @pytest.mark.parametrize("prefix", ["", "sha256="])
    def test_hmac_header_of_the_raw_body_authenticates(self, client, prefix):
        raw = orjson.dumps(ALERT)
        signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        response = client.post("/webhook", data=raw, content_type="application/json", HTTP_X_WEBHOOK_SIGNATURE=prefix + signature)
        assert response.status_code == 201

    def test_hmac_of_a_different_body_is_refused(self, client):
        signature = hmac.new(SECRET.encode(), b"{}", hashlib.sha256).hexdigest()
        response = client.post("/webhook", data=orjson.dumps(ALERT), content_type="application/json", HTTP_X_WEBHOOK_SIGNATURE=signature)
        assert response.status_code == 401

    def test_bias_payloads_are_held_to_the_same_policy(self, post_webhook):
        bias = {"event_id_raw": "MTF_BIAS_ENGINE_V3|SPY|5|1|BIAS_SNAPSHOT", "source": "MTF_BIAS_ENGINE_V3"}
        response, body = post_webhook(bias)
        assert response.status_code == 401
        assert only_event().kind == "bias_v3"

    def test_the_secret_never_reaches_a_stored_row_or_a_log_line(self, post_webhook, caplog):
        caplog.set_level("DEBUG")
        post_webhook({**ALERT, "secret": SECRET, "comment": f"pasted {SECRET} here"})
        post_webhook({**ALERT, "secret": SECRET, "timeframe": "banana"})
        post_webhook(f"not json {SECRET}", content_type="text/plain")
        post_webhook({**ALERT, "secret": "wrong"}, path=f"/webhook?token={SECRET}x")
        post_webhook({**ALERT, "secret": SECRET, "big": "z" * 40000, "direction": "short"})
        stored = json.dumps(
            [list(WebhookEvent.objects.values()), list(Signal.objects.values())], default=str
        )
        assert SECRET not in stored
        assert "[REDACTED]" in stored
        assert SECRET not in caplog.text
        signal = Signal.objects.order_by("created_at").first()
        assert "secret" not in signal.raw_payload


class TestRouting:
    @pytest.mark.parametrize(
        ("payload", "kind"),
        [
            ({"event_id_raw": "e1", "source": "MTF_BIAS_ENGINE_V3"}, "bias_v3"),
            ({"event_id_raw": "e2", "mtf": {}, "macro": {}, "intent": {}, "liquidity": {}, "space": {}, "trigger": {}}, "bias_v3"),
            ({"event_id_raw": "e3", "mtf": {}, "event_type": "BIAS_SNAPSHOT"}, "bias_legacy"),
            ({"event_id_raw": "e4", "mtf": {}, "event_type": "BIAS_CHANGE"}, "bias_legacy"),
            ({"event_id_raw": "e5", "mtf": {}, "event_type": "ORB_UPDATE", "source": "MTF_BIAS_ENGINE_V1"}, "bias_legacy"),
        ],
    )
    def test_bias_payloads_are_recognised_by_shape_and_audited_with_their_kind(self, post_webhook, payload, kind):
        post_webhook(payload)
        assert only_event().kind == kind
        assert Signal.objects.count() == 0

    def test_signal_with_an_event_id_but_no_bias_shape_is_a_trade_signal(self, post_webhook):
        response, _ = post_webhook({**ALERT, "event_id_raw": "abc"})
        assert response.status_code == 201
        assert only_event().kind == "signal"

    def test_bias_endpoint_never_creates_signals(self, post_webhook):
        post_webhook(ALERT, path="/api/webhooks/mtf-bias")
        assert Signal.objects.count() == 0
        assert only_event().kind in {"bias_v3", "bias_legacy"}


def test_accepted_alert_with_a_price_re_anchors_the_simulated_market(post_webhook, frozen_now):
    from decimal import Decimal

    from optionsengine.models import PriceAnchor

    post_webhook({**ALERT, "price": "189.50"})
    anchor = PriceAnchor.objects.get(symbol="AAPL")
    assert (anchor.price, anchor.anchored_at) == (Decimal("189.5000"), frozen_now)
    post_webhook({**ALERT, "price": "190.25"})  # a duplicate does not move the market
    assert PriceAnchor.objects.get(symbol="AAPL").price == Decimal("189.5000")
    post_webhook({**ALERT, "direction": "short", "price": 191})
    assert PriceAnchor.objects.get(symbol="AAPL").price == Decimal("191.0000")


@pytest.mark.django_db(transaction=True)
def test_a_dead_database_connection_is_retried_once_on_a_fresh_one(post_webhook, monkeypatch):
    from django.db import OperationalError

    from optionsengine.pipeline import ingest

    real = ingest.record_signal_webhook
    calls = []

    def dies_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(ingest, "record_signal_webhook", dies_once)
    response, body = post_webhook(ALERT)
    assert response.status_code == 201 and len(calls) == 2
    assert Signal.objects.count() == 1
    assert only_event().status == "accepted"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_alert_after_a_database_restart_is_still_accepted_on_postgresql(post_webhook):
    import psycopg
    from django.db import connection


    post_webhook(ALERT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as admin:  # what a restart does to a pooled connection
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    response, _ = post_webhook({**ALERT, "direction": "short"})
    assert response.status_code == 201
    assert Signal.objects.count() == 2
