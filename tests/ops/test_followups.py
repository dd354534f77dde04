"""The fast path: a committed stage enqueues the next stage's task for its row (SPEC §12).

django-q2 runs in sync mode in the test settings, so an accepted webhook runs the whole chain
(orchestrator → order creator → paper executor) inside the request once it commits.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction

from optionsengine.lib import clock
from optionsengine.pipeline import followups
from orders_app.models import Order, Trade
from positions_app.models import Position
from signals_app.models import Signal
from tests.pipeline.builders import NOW, seed_bias
from tests.pipeline.test_orchestrate import mid_band_iv

ALERT = {"ticker": "SPY", "interval": "15", "direction": "long", "confidence": 85, "is_test": True}


@pytest.fixture(autouse=True)
def at_now():
    with clock.override(NOW):
        yield


@pytest.mark.parametrize(
    ("stage", "task"),
    [
        ("orchestrate", "optionsengine.tasks.orchestrate"),
        ("create_orders", "optionsengine.tasks.create_orders"),
        ("execute", "optionsengine.tasks.execute"),
        ("refresh", "optionsengine.tasks.refresh"),
        ("exits", "optionsengine.tasks.exits"),
    ],
)
@pytest.mark.django_db
def test_after_commit_enqueues_that_stage_task_for_the_row_on_commit(stage, task, django_capture_on_commit_callbacks):
    with mock.patch("django_q.tasks.async_task") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                followups.after_commit(stage, "row-1")
                enqueue.assert_not_called()  # nothing before commit
    enqueue.assert_called_once()
    assert enqueue.call_args.args == (task, "row-1")


@pytest.mark.django_db
def test_a_batch_is_enqueued_after_commit_one_task_per_row(django_capture_on_commit_callbacks, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}  # even where a single row enqueues in-transaction
    with mock.patch("django_q.tasks.async_task") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                followups.after_commit_many("execute", ["o-1", "o-2", "o-3"])
                enqueue.assert_not_called()  # the batch's row locks are released first
    assert [c.args for c in enqueue.call_args_list] == [
        ("optionsengine.tasks.execute", "o-1"), ("optionsengine.tasks.execute", "o-2"), ("optionsengine.tasks.execute", "o-3"),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing():
    with mock.patch("django_q.tasks.async_task") as enqueue:
        with pytest.raises(RuntimeError), transaction.atomic():
            followups.after_commit("orchestrate", "row-1")
            raise RuntimeError("rollback")
    enqueue.assert_not_called()


@pytest.mark.django_db(transaction=True)
def test_an_accepted_webhook_runs_orchestrator_order_creator_and_executor_in_sync_mode(post_webhook):
    seed_bias("SPY", "BULLISH")
    with mid_band_iv():
        response, body = post_webhook(ALERT)
    assert response.status_code == 201, body
    signal = Signal.objects.get(pk=body["signal_id"])
    assert (signal.status, signal.rejection_reason, signal.processed) == ("approved", None, True)
    order = Order.objects.get(signal=signal, side=Order.Side.ENTRY)
    assert order.status == Order.Status.FILLED and order.is_test is True
    assert Trade.objects.filter(order=order).count() == 1
    assert Position.objects.filter(entry_order_id=order.pk, status=Position.Status.OPEN).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_enqueue_does_not_fail_the_webhook(post_webhook):
    with mock.patch("django_q.tasks.async_task", side_effect=ConnectionError("broker down")):
        response, body = post_webhook(ALERT)
    assert response.status_code == 201, body
    signal = Signal.objects.get(pk=body["signal_id"])
    assert (signal.status, signal.processed) == ("pending", False)  # left for the next sweep


@pytest.mark.django_db(transaction=True)
def test_a_task_failing_in_sync_mode_does_not_fail_the_webhook(post_webhook):
    with mock.patch("optionsengine.pipeline.orchestrate.sweep", side_effect=RuntimeError("boom")):
        response, body = post_webhook(ALERT)
    assert response.status_code == 201, body


@pytest.mark.django_db(transaction=True)
def test_the_fast_path_can_be_switched_off(post_webhook, settings):
    settings.PIPELINE_FAST_PATH = False
    with mock.patch("django_q.tasks.async_task") as enqueue:
        response, _ = post_webhook(ALERT)
    assert response.status_code == 201
    enqueue.assert_not_called()
