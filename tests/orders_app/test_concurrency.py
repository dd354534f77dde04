"""PostgreSQL: concurrent order creators and executors give the same result as one."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connections

from bias_app.models import BiasTradePerformance
from optionsengine.pipeline import create_orders, execute
from orders_app.models import Order, Trade
from positions_app.models import Position
from tests.orders_app.builders import NOW, approved_with_recommendation, entry_order

WORKERS = 4
ROWS = 24


def run_concurrently(stage: Callable) -> Counter:
    """`stage` in WORKERS threads (own connection, own transactions), released together."""
    barrier = threading.Barrier(WORKERS)
    totals: Counter = Counter()
    errors: list = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            result = stage()
            with lock:
                totals.update(result.counts)
                errors.extend(result.errors)
        except BaseException as exc:  # surfaced below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return totals


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_executors_never_fill_one_order_twice(market):
    orders = [entry_order(strike=str(580 + n)) for n in range(ROWS)]
    totals = run_concurrently(lambda: execute.sweep(now=NOW))
    assert totals["filled:entry"] == ROWS
    assert set(totals) <= {"filled:entry", "skipped"}
    assert Trade.objects.count() == ROWS == Position.objects.count() == BiasTradePerformance.objects.count()
    assert sorted(Trade.objects.values_list("order_id", flat=True)) == sorted(o.order_id for o in orders)
    assert set(Order.objects.values_list("status", "attempts")) == {("filled", 1)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_order_creators_make_one_entry_order_per_signal(market):
    signals = [approved_with_recommendation(strike=str(580 + n)) for n in range(ROWS)]
    totals = run_concurrently(lambda: create_orders.sweep(now=NOW))
    assert totals["created"] == ROWS
    assert set(totals) <= {"created", "already_done", "not_approved"}
    per_signal = Counter(Order.objects.values_list("signal_id", flat=True))
    assert per_signal == Counter({s.signal_id: 1 for s in signals})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_exit_fills_of_one_position_realize_each_contract_once(market):
    from tests.orders_app.builders import exit_order

    order = entry_order(quantity=ROWS)
    execute.sweep(now=NOW)
    position = Position.objects.get(entry_order=order)
    exit_order(position, quantity=ROWS)
    totals = run_concurrently(lambda: execute.sweep(now=NOW))
    assert totals["filled:close"] == 1
    position.refresh_from_db()
    assert (position.status, position.quantity) == ("closed", 0)
    assert Trade.objects.filter(order__side="exit").count() == 1
