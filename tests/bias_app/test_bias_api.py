"""GET /api/bias/state, /history, /summary with DRF token authentication."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from optionsengine.lib import clock
from tests.bias_app.builders import BASE_TS_MS, NOW, ingest, v3_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("now")]


@pytest.fixture
def api():
    user = get_user_model().objects.create_user("trader", password="pw-for-tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.parametrize("path", ["/api/bias/state?symbol=SPY", "/api/bias/history?symbol=SPY", "/api/bias/summary"])
def test_every_bias_endpoint_needs_a_token(client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, HTTP_AUTHORIZATION="Token not-a-real-token").status_code == 401


def test_state_returns_the_current_state_with_fresh_staleness(api):
    ingest(v3_payload())
    body = api.get("/api/bias/state?symbol=spy").json()
    assert body["symbol"] == "SPY"
    assert (body["state"]["bias"], body["state"]["isStale"], body["state"]["stalenessMinutes"]) == ("BULLISH", False, 1.0)
    with clock.override(NOW + timedelta(minutes=15)):
        later = api.get("/api/bias/state?symbol=SPY").json()["state"]
    assert (later["isStale"], later["stalenessMinutes"]) == (True, 16.0)


def test_state_defaults_to_spy(api):
    ingest(v3_payload())
    assert api.get("/api/bias/state").json()["symbol"] == "SPY"


def test_state_is_404_with_a_hint_when_no_bias_was_received(api):
    response = api.get("/api/bias/state?symbol=QQQ")
    assert response.status_code == 404
    body = response.json()
    assert (body["symbol"], body["error"]) == ("QQQ", "No bias state found")
    assert "seed_bias" in body["hint"]


def test_an_unusable_symbol_is_a_400(api):
    response = api.get("/api/bias/state?symbol=NOT%20A%20SYMBOL")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "symbol"


def test_history_lists_applied_states_newest_first_and_clamps_the_limit(api):
    for offset in (0, 60_000, 120_000):
        ingest(v3_payload(ts_ms=BASE_TS_MS + offset - 120_000))
    ingest(v3_payload(ts_ms=BASE_TS_MS - 999_000))  # out of order: not a state
    body = api.get("/api/bias/history?symbol=SPY&limit=2").json()
    assert body["count"] == 2
    assert [s["updatedAtMs"] for s in body["history"]] == [BASE_TS_MS, BASE_TS_MS - 60_000]
    assert api.get("/api/bias/history?symbol=SPY&limit=0").json()["count"] == 1
    assert api.get("/api/bias/history?symbol=SPY&limit=1000").json()["count"] == 3
    assert api.get("/api/bias/history?symbol=SPY").json()["count"] == 3


def test_history_limit_must_be_a_number(api):
    assert api.get("/api/bias/history?symbol=SPY&limit=ten").status_code == 400


def test_summary_lists_every_symbol_with_suppressions_and_staleness(api):
    ingest(v3_payload(ts_ms=BASE_TS_MS))
    ingest(v3_payload({"macro.state.macro_class": "MACRO_TREND_DOWN"}, symbol="AAPL", ts_ms=BASE_TS_MS - 20 * 60_000))
    body = api.get("/api/bias/summary").json()
    assert body["count"] == 2
    spy, aapl = body["symbols"]  # most recently updated first
    assert (spy["symbol"], spy["bias"], spy["biasScore"], spy["regimeType"], spy["macroClass"]) == (
        "SPY", "BULLISH", 62, "TREND", "MACRO_TREND_UP",
    )
    assert (spy["tradeSuppressed"], spy["isStale"], spy["stalenessMinutes"], spy["lastSuppressionReason"]) == (False, False, 1.0, None)
    assert (aapl["suppressLong"], aapl["suppressShort"], aapl["isStale"]) == (True, False, True)
    assert aapl["lastSuppressionReason"] == "Macro MACRO_TREND_DOWN suppresses longs"
    assert aapl["effectiveConfidence"] == 0.426


def test_a_token_is_obtained_with_username_and_password(client):
    get_user_model().objects.create_user("desk", password="s3cret-pw")
    response = client.post("/api/auth/token", {"username": "desk", "password": "s3cret-pw"})
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user__username="desk").key
    assert client.post("/api/auth/token", {"username": "desk", "password": "wrong"}).status_code == 400
