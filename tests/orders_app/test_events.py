"""Fill events: published on commit only, with the reference §3.5 fields."""

from __future__ import annotations

from decimal import Decimal

import pytest

from optionsengine.pipeline import events
from optionsengine.pipeline.execute import sweep
from positions_app.models import Position
from tests.orders_app.builders import NOW, entry_order

pytestmark = pytest.mark.django_db

POSITION_FIELDS = {
    "id", "symbol", "option_symbol", "type", "strike", "expiry", "qty", "entry_price", "exit_price", "current_price",
    "unrealized_pnl", "realized_pnl", "pnl_percent", "status", "entry_time", "exit_time", "updated_at",
}
RISK_FIELDS = {
    "timestamp", "open_positions", "max_open_positions", "max_positions_per_symbol", "max_position_size",
    "max_total_exposure", "max_exposure_percent", "unrealized_pnl", "realized_pnl", "total_exposure",
}


def test_fill_events_wait_for_the_commit(market, django_capture_on_commit_callbacks):
    entry_order()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sweep(now=NOW)
    assert events.published_counts() == {}  # not committed: nothing published
    for callback in callbacks:
        callback()
    assert events.published_counts() == {"position_update": 1, "risk_update": 1}


def test_payload_fields(market):
    entry_order(quantity=3)
    sweep(now=NOW)
    position = Position.objects.get()
    payload = events.position_payload(position)
    assert set(payload) == POSITION_FIELDS
    assert (payload["qty"], payload["entry_price"], payload["expiry"]) == (3, "5.0300", "2026-04-10")
    risk = events.risk_payload(NOW)
    assert RISK_FIELDS <= set(risk)
    assert (risk["open_positions"], risk["realized_pnl_scope"], risk["realized_pnl"]) == (1, "today", "0.00")
    assert (risk["unrealized_pnl"], risk["total_exposure"]) == ("-9.00", "1509.00")


def test_unknown_event_type_is_refused():
    with pytest.raises(ValueError):
        events.publish("trade_update", {})


def test_a_broken_risk_read_does_not_raise_after_commit(market, monkeypatch, django_capture_on_commit_callbacks):
    entry_order()
    monkeypatch.setattr(events, "risk_payload", lambda now: 1 / 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(now=NOW).counts == {"filled:entry": 1}  # logged, not raised
    assert events.published_counts() == {"position_update": 1}


def test_one_risk_update_per_batch_of_fills(market, django_capture_on_commit_callbacks):
    for strike in ("600", "601", "602"):
        entry_order(strike=strike)
    with django_capture_on_commit_callbacks(execute=True):
        sweep(now=NOW)
    assert events.published_counts() == {"position_update": 3, "risk_update": 1}


def test_realized_pnl_today_counts_non_test_exit_fills_of_the_new_york_day(market):
    from datetime import timedelta

    from tests.orders_app.builders import exit_order

    for is_test in (False, True):
        entry_order(is_test=is_test, strike="600" if is_test else "601")
    sweep(now=NOW)
    for position in Position.objects.all():
        exit_order(position, quantity=1)
    market.set(Position.objects.first().occ_symbol, "6.00", "5.90", "6.10")
    sweep(now=NOW)
    today = Decimal(events.risk_payload(NOW)["realized_pnl"])
    live = Position.objects.get(is_test=False)
    assert today == live.realized_pnl
    assert events.risk_payload(NOW + timedelta(days=3))["realized_pnl"] == "0.00"
