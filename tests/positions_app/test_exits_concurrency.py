"""Two exit monitors at once never create two exit orders for one position (PostgreSQL row locks)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections

from optionsengine.pipeline import exits, position_inputs
from orders_app.models import Order
from positions_app.models import Position
from tests.positions_app.builders import NOW, StubMarket, make_position

MONITORS = 4
ROUNDS = 3


class SlowMarket(StubMarket):
    """Quotes that take a moment, so every monitor reads the open positions before any writes."""

    def option_quote(self, contract):
        time.sleep(0.01)
        return super().option_quote(contract)


def run_monitors_concurrently(count: int) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def monitor() -> None:
        try:
            barrier.wait()
            exits.sweep(now=NOW)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=monitor) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_exit_monitors_create_one_exit_order_per_position(monkeypatch):
    market = SlowMarket()
    monkeypatch.setattr(position_inputs.marketdata, "get_service", lambda: market)
    full = [make_position(strike=str(500 + i)) for i in range(5)]
    partial = [make_position(strike=str(600 + i)) for i in range(5)]
    for position in full:
        market.set(position.occ_symbol, "2.00")  # stop loss
    for position in partial:
        market.set(position.occ_symbol, "6.25")  # the +25 % rung (stays open)
    for _ in range(ROUNDS):
        assert run_monitors_concurrently(MONITORS) == []
    for position in full + partial:
        orders = Order.objects.filter(position=position, side=Order.Side.EXIT)
        assert orders.count() == 1, position.option_symbol
    assert set(Position.objects.filter(pk__in=[p.pk for p in full]).values_list("status", flat=True)) == {"closing"}
    for position in partial:
        position.refresh_from_db()
        assert (position.status, position.partials_taken) == ("open", ["profit_target_reached:25"])
