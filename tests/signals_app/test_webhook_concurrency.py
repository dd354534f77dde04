"""The duplicate rule holds under concurrency: N identical alerts at once make exactly one signal."""

from __future__ import annotations

import threading

import orjson
import pytest
from django.db import connections
from django.test import Client

from signals_app.models import Signal, WebhookEvent

ALERT = {"ticker": "SPY", "interval": "5", "direction": "long", "price": "601.20"}
CONCURRENT_ALERTS = 50


def fire_concurrently(count: int) -> list[int]:
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            barrier.wait()
            response = Client().post("/webhook", data=orjson.dumps(ALERT), content_type="application/json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()  # each thread owns its connection; do not leak it

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_alerts_create_exactly_one_signal():
    """Runs on SQLite (IMMEDIATE transactions) and, in CI's second pass, PostgreSQL (advisory lock)."""
    statuses = fire_concurrently(CONCURRENT_ALERTS)
    assert sorted(statuses) == [200] * (CONCURRENT_ALERTS - 1) + [201]
    assert Signal.objects.count() == 1
    assert WebhookEvent.objects.filter(status="accepted").count() == 1
    assert WebhookEvent.objects.filter(status="duplicate").count() == CONCURRENT_ALERTS - 1
