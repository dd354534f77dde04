"""Concurrent updates for one symbol: serialized by the row lock, nothing lost, nothing doubled."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connections

from bias_app.models import BiasStateCurrent, BiasStateHistory
from bias_app.services.ingest import ingest_bias_payload
from optionsengine.lib.transactions import entry_point_transaction
from tests.bias_app.builders import BASE_TS_MS, NOW, v3_payload

UPDATES = 20


def send_concurrently(payloads: list[dict]) -> list[str]:
    """Each payload in its own thread (own DB connection, own durable transaction), released together."""
    barrier = threading.Barrier(len(payloads))
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(payload: dict) -> None:
        try:
            barrier.wait()
            with entry_point_transaction():
                outcome = ingest_bias_payload(payload=payload, kind="bias_v3", received_at=NOW)
            with lock:
                results.append(outcome.body["status"])
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def shuffled_updates(seed: int) -> list[dict]:
    timestamps = [BASE_TS_MS - 60_000 * i for i in range(UPDATES)]
    random.Random(seed).shuffle(timestamps)
    # Bias score encodes the timestamp, so the winner's state can be recognised.
    return [v3_payload({"mtf.consensus.bias_score": -(BASE_TS_MS - ts) // 60_000}, ts_ms=ts) for ts in timestamps]


def assert_newest_current_and_every_event_once(payloads: list[dict], statuses: list[str]) -> None:
    assert len(statuses) == UPDATES
    assert set(statuses) <= {"accepted", "out_of_order"} and "accepted" in statuses
    current = BiasStateCurrent.objects.get(symbol="SPY")
    assert current.updated_at_ms == BASE_TS_MS
    assert current.state_json["biasScore"] == 0 and current.state_json["updatedAtMs"] == BASE_TS_MS
    stored = sorted(BiasStateHistory.objects.values_list("event_id_raw", flat=True))
    assert stored == sorted(p["event_id_raw"] for p in payloads)  # each exactly once
    assert BiasStateHistory.objects.filter(status="accepted").count() == statuses.count("accepted")
    # Serialized application: accepted events form a strictly increasing chain of previous states.
    accepted = BiasStateHistory.objects.filter(status="accepted").order_by("event_ts_ms")
    for earlier, later in zip(accepted, accepted[1:], strict=False):
        expected_delta = later.state_json["biasScore"] - earlier.state_json["biasScore"]
        assert later.state_json["acceleration"]["stateStrengthDelta"] == expected_delta


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_for_one_symbol_end_with_the_newest_state_on_postgresql():
    payloads = shuffled_updates(seed=3)
    statuses = send_concurrently(payloads)
    assert_newest_current_and_every_event_once(payloads, statuses)
    resent = send_concurrently(payloads)  # and all at once again: every one a duplicate
    assert resent == ["duplicate"] * UPDATES
    assert BiasStateHistory.objects.count() == UPDATES


@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_are_serialized_by_the_write_transaction_on_any_database():
    payloads = shuffled_updates(seed=11)
    statuses = send_concurrently(payloads)
    assert_newest_current_and_every_event_once(payloads, statuses)
