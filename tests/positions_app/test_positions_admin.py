"""Positions, exit rules and breaker admin."""

from __future__ import annotations

import pytest

from orders_app.models import Order
from positions_app.engines import exit_reasons as R
from positions_app.models import ExitRule, Position
from tests.positions_app.builders import NOW, D, make_position

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("now")]


@pytest.mark.parametrize("model", ["position", "exitrule", "circuitbreakerstate"])
def test_every_changelist_renders(admin_client, model):
    make_position()
    assert admin_client.get(f"/admin/positions_app/{model}/").status_code == 200


def test_a_position_page_is_read_only_and_links_to_its_signal(admin_client):
    position = make_position(exit_reason_codes=[R.STOP_LOSS, R.TIME_STOP], partials_taken=["time_stop:7d"])
    page = admin_client.get(f"/admin/positions_app/position/{position.pk}/change/").content.decode()
    assert f"/admin/signals_app/signal/{position.entry_order.signal_id}/change/" in page
    assert "stop_loss, time_stop" in page and "time_stop:7d" in page
    assert 'name="quantity"' not in page  # nothing editable
    assert admin_client.post(f"/admin/positions_app/position/{position.pk}/change/", {"quantity": 1}).status_code == 403
    assert admin_client.get("/admin/positions_app/position/add/").status_code == 403


def test_close_position_action_creates_a_manual_close_exit_order(admin_client):
    position = make_position(quantity=3)
    closing = make_position(strike="605", status=Position.Status.CLOSING)
    response = admin_client.post(
        "/admin/positions_app/position/",
        {"action": "close_positions", "_selected_action": [position.pk, closing.pk]}, follow=True,
    )
    page = response.content.decode()
    assert "1 exit order(s) created" in page and "1 position(s) skipped" in page
    order = Order.objects.get(position=position, side=Order.Side.EXIT)
    assert (order.exit_reason, order.quantity, order.created_at) == (R.MANUAL_CLOSE, 3, NOW)
    position.refresh_from_db()
    assert position.status == Position.Status.CLOSING


def test_exit_rules_are_editable(admin_client):
    response = admin_client.post("/admin/positions_app/exitrule/add/", {
        "rule_name": "tight", "enabled": "on", "profit_target_percent": "30", "stop_loss_percent": "20",
        "max_hold_time_hours": "48", "min_dte_exit": "2", "trailing_stop_percent": "10",
        "trailing_stop_activation_percent": "15",
    })
    assert response.status_code == 302
    rule = ExitRule.objects.get(rule_name="tight")
    assert (rule.stop_loss_percent, rule.created_at) == (D("20"), NOW)
