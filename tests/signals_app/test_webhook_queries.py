"""The webhook hot path runs a small, fixed number of queries, independent of table size."""

from __future__ import annotations

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from signals_app.models import Signal

pytestmark = pytest.mark.django_db

# PostgreSQL: one statement batch (advisory lock; check, signal, audit). SQLite: check + two inserts.
EXPECTED = {"postgresql": 1, "sqlite": 3}
EXPECTED_DUPLICATE = {"postgresql": 1, "sqlite": 2}  # SQLite skips the signal insert


def statements(captured) -> list[str]:
    """The queries the endpoint issues; SAVEPOINTs exist only because the test wraps a transaction."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def post(client, payload):
    return client.post("/webhook", data=orjson.dumps(payload), content_type="application/json")


def test_accepted_webhook_runs_a_fixed_number_of_queries(client):
    with CaptureQueriesContext(connection) as first:
        assert post(client, {"ticker": "SPY", "interval": "5", "direction": "long"}).status_code == 201
    for n in range(30):  # grow the table: the count must not change
        post(client, {"ticker": f"S{n}", "interval": "5", "direction": "long"})
    with CaptureQueriesContext(connection) as later:
        assert post(client, {"ticker": "QQQ", "interval": "5", "direction": "long"}).status_code == 201
    assert len(statements(first)) == EXPECTED[connection.vendor]
    assert len(statements(later)) == len(statements(first))
    assert Signal.objects.count() == 32


def test_duplicate_webhook_runs_a_fixed_number_of_queries(client):
    post(client, {"ticker": "SPY", "interval": "5", "direction": "long"})
    with CaptureQueriesContext(connection) as queries:
        assert post(client, {"ticker": "SPY", "interval": "5", "direction": "long"}).status_code == 200
    assert len(statements(queries)) == EXPECTED_DUPLICATE[connection.vendor]


# An alert carrying `price` also re-anchors the simulated market (the default chain): in the same
# batch on PostgreSQL, one upsert more on SQLite.
EXPECTED_WITH_PRICE = {"postgresql": 1, "sqlite": 4}


def test_accepted_webhook_with_a_price_runs_a_fixed_number_of_queries(client):
    for n in range(10):
        post(client, {"ticker": f"P{n}", "interval": "5", "direction": "long", "price": "100.5"})
    with CaptureQueriesContext(connection) as queries:
        assert post(client, {"ticker": "SPY", "interval": "5", "direction": "long", "price": "601.25"}).status_code == 201
    assert len(statements(queries)) == EXPECTED_WITH_PRICE[connection.vendor]
