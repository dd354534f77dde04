"""PostgreSQL: an accepted alert is written by one statement batch, in one round trip, as one
transaction — the signal, its audit row, the simulated market's anchor and the fast-path task row
commit together or not at all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from optionsengine.lib.queue_rows import TaskRow
from optionsengine.models import PriceAnchor
from optionsengine.pipeline import followups
from signals_app.models import Signal, WebhookEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ALERT = {"ticker": "SPY", "interval": "5", "direction": "long", "price": "601.25"}


@pytest.fixture
def fast_path_queued(settings):
    """The scaled set-up: the fast path on, the ORM broker, a real (not sync) cluster."""
    settings.PIPELINE_FAST_PATH = True
    settings.QUEUE_BROKER = "orm"
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}


def test_an_accepted_alert_is_one_round_trip_with_no_begin_or_commit(post_webhook, fast_path_queued):
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, connection.get_autocommit()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response, body = post_webhook(ALERT)
    assert response.status_code == 201, body
    assert len(sent) == 1 and sent[0][1] is True  # autocommit: PostgreSQL's implicit transaction, no BEGIN/COMMIT
    assert Signal.objects.filter(pk=body["signal_id"], status="pending").exists()
    assert WebhookEvent.objects.get(signal_id=body["signal_id"]).status == "accepted"
    assert PriceAnchor.objects.get(symbol="SPY").price == Decimal("601.25")


def test_the_fast_path_task_row_is_written_with_the_signal_and_runs_the_orchestrator(post_webhook, fast_path_queued):
    response, body = post_webhook(ALERT)
    assert response.status_code == 201, body
    (row,) = OrmQ.objects.all()
    task = SignedPackage.loads(row.payload)
    assert (task["func"], task["args"], task["group"]) == ("optionsengine.tasks.orchestrate", (body["signal_id"],), "fast:orchestrate")
    assert row.key == "optionsengine"


def test_a_duplicate_writes_no_task_and_no_anchor(post_webhook, fast_path_queued):
    post_webhook(ALERT)
    response, body = post_webhook({**ALERT, "price": "602.50"})
    assert body["status"] == "DUPLICATE"
    assert OrmQ.objects.count() == 1
    assert PriceAnchor.objects.get(symbol="SPY").price == Decimal("601.25")
    assert list(WebhookEvent.objects.order_by("created_at").values_list("status", flat=True)) == ["accepted", "duplicate"]


def test_a_failure_late_in_the_batch_leaves_no_signal_behind(post_webhook, fast_path_queued, monkeypatch):
    good = followups.task_row("orchestrate", "x")
    too_long_key = TaskRow(key="q" * 200, payload=good.payload, lock=good.lock)  # django_q_ormq.key is varchar(100)
    monkeypatch.setattr("optionsengine.pipeline.ingest.task_row", lambda stage, row_id: too_long_key)
    response, body = post_webhook(ALERT)
    assert response.status_code == 500  # TradingView retries a 500
    assert not Signal.objects.exists()  # the signal insert earlier in the batch was rolled back with it
    assert not PriceAnchor.objects.exists() and not OrmQ.objects.exists()
    assert WebhookEvent.objects.get().status == "error"  # the fault is audited in a fresh transaction


def test_without_the_orm_broker_the_task_goes_through_after_commit(post_webhook, fast_path_queued, settings, monkeypatch):
    settings.QUEUE_BROKER = "redis"
    queued = []
    monkeypatch.setattr("optionsengine.pipeline.followups._dispatch", lambda stage, row_id: queued.append((stage, row_id)))
    response, body = post_webhook(ALERT)
    assert response.status_code == 201
    assert queued == [("orchestrate", body["signal_id"])] and not OrmQ.objects.exists()


def test_a_connection_lost_after_the_batch_committed_answers_from_the_committed_outcome(post_webhook, fast_path_queued):
    from django.db import OperationalError

    calls = []

    def commit_then_lose_the_connection(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        calls.append(sql)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return result

    with connection.execute_wrapper(commit_then_lose_the_connection):
        response, body = post_webhook(ALERT)
    assert response.status_code == 201, body  # not a 500: the alert was accepted before the connection went
    signal = Signal.objects.get()
    assert body["signal_id"] == str(signal.pk)
    assert WebhookEvent.objects.get().status == "accepted" and OrmQ.objects.count() == 1


def test_concurrent_identical_alerts_write_one_signal_one_anchor_and_one_task(fast_path_queued):
    import threading

    import orjson
    from django.db import connections
    from django.test import Client

    barrier = threading.Barrier(20)
    statuses = []

    def send():
        try:
            barrier.wait()
            statuses.append(Client().post("/webhook", data=orjson.dumps(ALERT), content_type="application/json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 19 + [201]
    assert (Signal.objects.count(), PriceAnchor.objects.count(), OrmQ.objects.count(), WebhookEvent.objects.count()) == (1, 1, 1, 20)


def test_the_task_row_has_the_ormq_table_s_columns_and_the_broker_s_queue_name(fast_path_queued):
    """A django-q2 upgrade that changes the queue table or its key fails here, not on every alert."""
    from django_q.brokers import get_broker

    assert sorted(f.column for f in OrmQ._meta.concrete_fields) == ["id", "key", "lock", "payload"]
    assert followups.task_row("orchestrate", "x").key == get_broker().list_key
