"""Exit monitor + paper executor: partial exits realize P&L, and the money reconciles (SPEC §8, §10, §15)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum

from bias_app.models import BiasTradePerformance
from optionsengine.pipeline import execute, exits
from orders_app.models import Trade
from positions_app.models import Position
from tests.positions_app.builders import NOW, D, make_position

pytestmark = pytest.mark.django_db


def test_a_ladder_then_a_target_close_realizes_every_contract(market, now):
    position = make_position(quantity=10, entry_price="5.00")
    BiasTradePerformance.objects.create(position=position, symbol="SPY", direction="long", created_at=NOW)
    market.set(position.occ_symbol, "6.25")  # +25 %: rung 1, 3 contracts
    exits.sweep(now=NOW)
    execute.sweep(now=NOW + timedelta(seconds=5))
    position.refresh_from_db()
    assert (position.status, position.quantity, position.partials_taken) == ("open", 7, ["profit_target_reached:25"])
    assert position.realized_pnl > 0
    exits.sweep(now=NOW + timedelta(minutes=1))  # the rung does not fire again
    assert position.exit_orders.count() == 1
    market.set(position.occ_symbol, "7.60")  # +52 %: profit target, the rest
    exits.sweep(now=NOW + timedelta(minutes=2))
    execute.sweep(now=NOW + timedelta(minutes=2, seconds=5))
    position.refresh_from_db()
    assert (position.status, position.quantity, position.exit_reason) == ("closed", 0, "profit_target")
    fills = Trade.objects.filter(order__position=position)
    assert sum(t.fill_quantity for t in fills) == 10
    total = fills.aggregate(total=Sum("realized_pnl"))["total"]
    assert total == position.realized_pnl == BiasTradePerformance.objects.get(position=position).realized_pnl
    assert total > D("0")
    assert Position.objects.get(pk=position.pk).exit_reason_codes[0] == "profit_target"
