"""Property-based fuzzing of POST /webhook and POST /api/webhooks/mtf-bias (hypothesis).

Whatever the body: never a 5xx, exactly one audit row per request, and no signal unless the answer
is 201. CI runs a fast sample; a long run is one command:

    FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/test_fuzz_webhook.py -q
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signals_app.models import Signal, WebhookEvent

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not os.environ.get("FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])

FIELDS = ["symbol", "ticker", "timeframe", "tf", "interval", "trigger_timeframe", "direction", "side", "trend", "bias",
          "action", "price", "strike", "confidence", "score", "timestamp", "is_test", "metadata", "meta", "signal",
          "event", "strategy", "market", "candle", "pattern", "session", "secret", "test_session_id", "event_id_raw",
          "mtf", "event_type", "source"]
WORDS = ["long", "SHORT", "bull", "5", "60", "1M", "D", "SPY", "NASDAQ:AAPL", "true", "1e400", "-0", "NaN", "Infinity",
         "9" * 5000, "\u0000", "2026-03-13T14:29:00Z", "1773412140000", "BIAS_SNAPSHOT", "MTF_BIAS_ENGINE_V3"]
leaf = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30), st.sampled_from(WORDS),
)
json_value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5), max_leaves=25)
alert = st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=10).map(orjson.dumps)
deep = st.integers(min_value=20, max_value=1200).map(lambda n: b'{"ticker":"SPY","x":' + b"[" * n + b"]" * n + b"}")
raw = st.binary(max_size=300)


def _mutate(document: dict, path: list, value) -> dict:
    """`document` with the leaf at an index-chosen path replaced by `value`."""
    node = document
    for index in path:
        if not isinstance(node, dict) or not node:
            break
        key = sorted(node)[index % len(node)]
        if not isinstance(node[key], dict):
            node[key] = value
            return document
        node = node[key]
    return document


def bias_documents():
    fixtures = [orjson.loads(p.read_bytes()) for p in sorted((ROOT / "tests" / "data" / "bias").glob("*.json"))]
    return st.builds(
        lambda doc, path, value: orjson.dumps(_mutate(orjson.loads(orjson.dumps(doc)), path, value)),
        st.sampled_from(fixtures), st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=5), json_value,
    )


bodies = st.one_of(alert, deep, raw, bias_documents())


@pytest.fixture
def poster(client):
    def post(body: bytes, path: str):
        before_events, before_signals = WebhookEvent.objects.count(), Signal.objects.count()
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code < 500, (response.status_code, body[:300], response.content[:300])
        assert WebhookEvent.objects.count() == before_events + 1, body[:300]
        new_signals = Signal.objects.count() - before_signals
        assert new_signals == (1 if response.status_code == 201 else 0), (response.status_code, body[:300])
        return response

    return post


@pytest.mark.django_db
@FUZZ
@given(body=bodies, path=st.sampled_from(["/webhook", "/api/webhooks/mtf-bias"]))
def test_no_body_answers_5xx_and_every_request_is_audited_once(poster, body, path):
    poster(body, path)
