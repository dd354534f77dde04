"""Orders/trades admin: read-only lists with links, the cancel action; risk limits editable."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from optionsengine.lib.transactions import entry_point_transaction
from optionsengine.pipeline.execute import sweep
from orders_app.models import Order, RiskLimit
from orders_app.services.cancel import cancel_order
from positions_app.models import Position
from tests.orders_app.builders import NOW, entry_order, exit_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled(market):
    order = entry_order()
    sweep(now=NOW)
    position = Position.objects.get(entry_order=order)
    exit_order(position, quantity=1)
    sweep(now=NOW)
    return order, position


@pytest.mark.parametrize("model", ["order", "trade", "risklimit"])
def test_changelists_render(admin_client, filled, model):
    assert admin_client.get(f"/admin/orders_app/{model}/").status_code == 200


def test_order_and_trade_pages_link_signal_position_and_each_other(admin_client, filled):
    order, position = filled
    page = admin_client.get(f"/admin/orders_app/order/{order.pk}/change/").content.decode()
    assert f"/admin/signals_app/signal/{order.signal_id}/change/" in page
    assert "/admin/orders_app/trade/" in page
    trades = admin_client.get("/admin/orders_app/trade/").content.decode()
    assert trades.count(f"/admin/positions_app/position/{position.pk}/change/") == 2  # entry and exit fill
    assert "orders_app/order/add" not in admin_client.get("/admin/orders_app/order/").content.decode()


def test_filters_and_search(admin_client, filled):
    assert admin_client.get("/admin/orders_app/order/?status__exact=filled&side__exact=exit").status_code == 200
    assert admin_client.get("/admin/orders_app/order/?q=SPY-20260410").status_code == 200
    assert admin_client.get("/admin/orders_app/trade/?order__side__exact=entry&q=SPY").status_code == 200


def test_cancel_action_cancels_only_pending_orders(admin_client, filled):
    pending = entry_order(strike="610")
    done, _ = filled
    response = admin_client.post(
        "/admin/orders_app/order/", {"action": "cancel_orders", "_selected_action": [pending.pk, done.pk]}, follow=True,
    )
    text = response.content.decode()
    assert "Cancelled 1 order(s)." in text and "1 order(s) were not pending" in text
    pending.refresh_from_db()
    assert (pending.status, pending.failure_reason) == ("cancelled", "cancelled_by_operator")
    assert Order.objects.get(pk=done.pk).status == "filled"


def test_cancel_order_service_is_guarded(market):
    order = entry_order()
    with entry_point_transaction():
        assert cancel_order(order_id=order.pk, now=NOW)
    with entry_point_transaction():
        assert not cancel_order(order_id=order.pk, now=NOW + timedelta(seconds=1))
    assert sweep(now=NOW).counts == {}  # a cancelled order is never filled


def test_risk_limits_are_editable_and_the_newest_enabled_row_applies(admin_client):
    from orders_app.selectors import get_active_risk_limit

    RiskLimit.objects.update(created_at=NOW - timedelta(days=1))  # the seeded row, older than the edit
    response = admin_client.post("/admin/orders_app/risklimit/add/", {
        "enabled": "on", "max_position_size": 4, "max_positions_per_symbol": 2, "max_open_positions": 3,
        "max_daily_loss": "500.00", "max_exposure_percent": "10", "max_daily_trades": 7,
    })
    assert response.status_code == 302
    active = get_active_risk_limit()
    assert (active.max_position_size, active.max_daily_trades, active.max_daily_loss) == (4, 7, Decimal("500.00"))
    assert RiskLimit.objects.count() == 2
