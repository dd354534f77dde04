"""Bad input never produces a 500 (SPEC §15): odd bodies found by fuzzing get a 4xx and an audit row."""

from __future__ import annotations

import pytest

from optionsengine.lib.logfilters import scrub
from signals_app.models import Signal, WebhookEvent

pytestmark = pytest.mark.django_db

ALERT = {"ticker": "SPY", "interval": "5", "direction": "long"}


@pytest.mark.parametrize(
    "body",
    [
        {**ALERT, "price": "1e30"},
        {**ALERT, "price": 1e300},
        {**ALERT, "price": "1e20"},
        {**ALERT, "price": "0"},
        {**ALERT, "price": "-5"},
        {**ALERT, "strike": 10**12},
        {**ALERT, "score": "1e40"},
        {**ALERT, "interval": "99999999999999999999d"},
        {**ALERT, "interval": 1e300},
        {**ALERT, "interval": 9223372036854775807},
        {**ALERT, "comment": "nul \u0000 inside"},
        {**ALERT, "nested": {"k\u0000ey": [1, "x"]}},
    ],
)
def test_unstorable_values_answer_400_with_an_audit_row(post_webhook, body):
    response, reply = post_webhook(body)
    assert response.status_code == 400, reply
    assert reply["status"] == "REJECTED"
    event = WebhookEvent.objects.get()
    assert event.status == "invalid_payload"
    assert Signal.objects.count() == 0


def test_a_nul_character_is_replaced_in_the_audit_copy(post_webhook):
    post_webhook({**ALERT, "comment": "a\u0000b"})
    assert WebhookEvent.objects.get().raw_payload["comment"] == "a\ufffdb"


def test_a_raw_nul_byte_in_a_non_json_body_is_audited(post_webhook):
    response, _ = post_webhook(b"not json \x00 at all", content_type="text/plain")
    assert response.status_code == 400
    assert "\x00" not in WebhookEvent.objects.get().raw_payload["_preview"]


def test_a_tiny_price_that_rounds_to_zero_is_accepted_without_moving_the_market(post_webhook):
    from optionsengine.models import PriceAnchor

    response, _ = post_webhook({**ALERT, "price": "0.00000001"})
    assert response.status_code == 201
    assert not PriceAnchor.objects.filter(symbol="SPY").exists()


@pytest.mark.parametrize("event_type", [[], {}, 5, None])
@pytest.mark.parametrize("path", ["/webhook", "/api/webhooks/mtf-bias"])
def test_bias_shaped_bodies_with_an_odd_event_type_are_not_a_500(post_webhook, event_type, path):
    response, _ = post_webhook({"event_id_raw": "x", "mtf": {}, "event_type": event_type}, path=path)
    assert response.status_code in {400, 422}
    assert WebhookEvent.objects.get().status == "invalid_payload"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [(b"{not json", 400, "Invalid JSON"), (b"{" + b" " * (130 * 1024) + b"}", 413, "Payload too large")],
)
def test_bias_endpoint_audits_its_rejections_as_bias(post_webhook, body, status, error):
    response, reply = post_webhook(body, path="/api/webhooks/mtf-bias")
    assert (response.status_code, reply["error"]) == (status, error)
    assert WebhookEvent.objects.get().kind == "bias_v3"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('"POST /webhook?token=abc HTTP/1.1" 201', '"POST /webhook?token=[REDACTED] HTTP/1.1" 201'),
        ("GET https://api.twelvedata.com/quote?symbol=SPY&apikey=K3Y", "GET https://api.twelvedata.com/quote?symbol=SPY&apikey=[REDACTED]"),
        ("GET https://api.massive.com/v2?apiKey=K3Y&x=1", "GET https://api.massive.com/v2?apiKey=[REDACTED]&x=1"),
        ("GET /x?secret=s&passphrase=p", "GET /x?secret=[REDACTED]&passphrase=[REDACTED]"),
        ("GET /x?symbol=SPY", "GET /x?symbol=SPY"),
    ],
)
def test_log_lines_never_carry_secrets_or_provider_keys(line, expected):
    assert scrub(line) == expected
