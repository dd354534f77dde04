"""Exit monitor on the real database with a controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bias_app.engines.staleness import now_ms
from bias_app.models import BiasConfig, BiasStateCurrent
from optionsengine.lib.transactions import entry_point_transaction
from optionsengine.pipeline.exit_orders import request_close
from optionsengine.pipeline.exits import sweep
from orders_app.models import Order
from positions_app.engines import exit_reasons as R
from positions_app.models import Position
from tests.positions_app.builders import NIGHT, NOW, D, bias_state, make_position

pytestmark = pytest.mark.django_db


def exit_orders(position=None):
    orders = Order.objects.filter(side=Order.Side.EXIT).order_by("created_at")
    return list(orders.filter(position=position) if position else orders)


def test_a_stop_loss_creates_one_exit_order_and_sets_the_position_closing(market, now, django_capture_on_commit_callbacks):
    position = make_position(quantity=4, is_test=True, experiment_id=None)
    market.set(position.occ_symbol, "2.40")  # −52 %
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep(now=NOW)
    assert result.counts[f"full_exit:{R.STOP_LOSS}"] == 1
    [order] = exit_orders(position)
    assert (order.side, order.signal_id, order.quantity, order.status) == ("exit", None, 4, "pending_execution")
    assert (order.exit_reason, order.exit_reason_codes, order.is_test) == (R.STOP_LOSS, [R.STOP_LOSS], True)
    assert (order.option_symbol, order.occ_symbol, order.strike, order.expiration, order.type, order.engine) == (
        position.option_symbol, position.occ_symbol, position.strike, position.expiration, position.type, "A"
    )
    position.refresh_from_db()
    assert (position.status, position.exit_reason, position.exit_reason_codes) == ("closing", R.STOP_LOSS, [R.STOP_LOSS])
    sweep(now=NOW + timedelta(minutes=1))  # already closing: nothing more
    assert len(exit_orders(position)) == 1


def test_each_trigger_gets_its_reason(market, now):
    cases = {
        R.PROFIT_TARGET: make_position(strike="601"),
        R.MAX_HOLD_TIME: make_position(strike="602", entry_timestamp=NOW - timedelta(hours=121), setup_type="POSITION"),
        R.TRAILING_STOP: make_position(strike="603", trailing_stop_price=D("5.20")),
    }
    market.set(cases[R.PROFIT_TARGET].occ_symbol, "7.50")
    market.set(cases[R.TRAILING_STOP].occ_symbol, "5.20")
    sweep(now=NOW)
    for reason, position in cases.items():
        [order] = exit_orders(position)
        assert order.exit_reason == reason, reason


def test_a_partial_rung_fires_once(market, now):
    position = make_position(quantity=10)
    market.set(position.occ_symbol, "6.25")  # +25 %: SWING rung 1, exit 33 %
    sweep(now=NOW)
    [order] = exit_orders(position)
    assert (order.quantity, order.exit_reason) == (3, R.PROFIT_TARGET_REACHED)
    position.refresh_from_db()
    assert (position.status, position.partials_taken) == ("open", ["profit_target_reached:25"])
    assert sweep(now=NOW + timedelta(minutes=1)).counts["exit_order_pending"] == 1
    # The executor fills it: 7 contracts left, the rung stays taken.
    Order.objects.filter(pk=order.pk).update(status=Order.Status.FILLED)
    Position.objects.filter(pk=position.pk).update(quantity=7)
    sweep(now=NOW + timedelta(minutes=2))
    assert len(exit_orders(position)) == 1
    market.set(position.occ_symbol, "7.60")  # +52 %: the next rung and the profit target → full
    sweep(now=NOW + timedelta(minutes=3))
    assert [(o.quantity, o.exit_reason) for o in exit_orders(position)][-1] == (7, R.PROFIT_TARGET)


def test_forced_close_outside_market_hours(market, settings):
    settings.EMERGENCY_RISK_OFF = True
    position = make_position()
    result = sweep(now=NIGHT)
    assert result.counts["market_closed"] == 1
    [order] = exit_orders(position)
    assert order.exit_reason == R.EMERGENCY_RISK_OFF
    assert market.calls == 0  # no quote is needed for a forced close


def test_no_exit_is_evaluated_while_the_market_is_closed(market):
    position = make_position()
    market.set(position.occ_symbol, "1.00")  # −80 %: would be a stop loss during the session
    result = sweep(now=NIGHT)
    assert result.counts["hold"] == 1 and exit_orders() == [] and market.calls == 0


def test_expiry_day_close_fires_after_the_close_too(market):
    position = make_position(expiration=NOW.date() - timedelta(days=0))  # expires today (Friday 2026-03-13)
    sweep(now=NIGHT)
    assert exit_orders(position)[0].exit_reason == R.EXPIRATION_DAY_CLOSE


def test_the_tuned_macro_drift_threshold_is_read_from_bias_config(market, now):
    position = make_position(entry_mode_hint="PULLBACK")
    market.set(position.occ_symbol, "5.50")
    state = {**bias_state(acceleration={"macroDriftScore": 0.2}), "symbol": "SPY", "updatedAtMs": now_ms(NOW) - 60_000}
    BiasStateCurrent.objects.create(symbol="SPY", updated_at_ms=state["updatedAtMs"], state_json=state,
                                    event_id_raw="x", source="test", created_at=NOW, updated_at=NOW)
    BiasConfig.objects.filter(config_key="adaptive").update(config_json={"macroDriftThreshold": 0.22, "enabled": True})
    sweep(now=NOW)
    assert exit_orders() == []  # 0.20 < tuned 0.22
    BiasConfig.objects.filter(config_key="adaptive").update(config_json={"macroDriftThreshold": 0.18, "enabled": True})
    from django.core.cache import cache
    cache.clear()  # what the config service does on save; otherwise seen within 30 s
    sweep(now=NOW + timedelta(minutes=1))
    [order] = exit_orders(position)
    assert (order.exit_reason, order.quantity) == (R.MACRO_DRIFT_EXIT_PRESSURE, 3)


def test_a_stale_bias_state_drives_no_intelligence(market, now):
    position = make_position()
    market.set(position.occ_symbol, "5.50")
    state = {**bias_state(liquidity={"sweepHigh": True}), "symbol": "SPY", "updatedAtMs": now_ms(NOW - timedelta(minutes=11))}
    BiasStateCurrent.objects.create(symbol="SPY", updated_at_ms=state["updatedAtMs"], state_json=state,
                                    event_id_raw="x", source="test", created_at=NOW, updated_at=NOW)
    sweep(now=NOW)
    assert exit_orders(position) == []


def test_manual_close_replaces_a_pending_partial(market, now):
    position = make_position(quantity=10)
    market.set(position.occ_symbol, "6.25")
    sweep(now=NOW)
    [partial] = exit_orders(position)
    with entry_point_transaction():
        order, outcome = request_close(position_id=position.pk, now=NOW)
    assert outcome == "created" and (order.quantity, order.exit_reason) == (10, R.MANUAL_CLOSE)
    partial.refresh_from_db()
    position.refresh_from_db()
    assert (partial.status, position.status, position.exit_reason) == ("cancelled", "closing", R.MANUAL_CLOSE)
    with entry_point_transaction():
        assert request_close(position_id=position.pk, now=NOW) == (None, "not_open")


def test_a_closing_position_whose_exit_order_failed_gets_a_new_one(market, now):
    position = make_position(quantity=5)
    market.set(position.occ_symbol, "2.00")
    sweep(now=NOW)
    Order.objects.filter(position=position).update(status=Order.Status.FAILED)
    result = sweep(now=NOW + timedelta(minutes=1))
    assert result.counts["exit_reissued"] == 1
    orders = exit_orders(position)
    assert [(o.status, o.exit_reason, o.quantity) for o in orders] == [("failed", R.STOP_LOSS, 5), ("pending_execution", R.STOP_LOSS, 5)]


def _queries(count: int, mid: str, market) -> int:
    Position.objects.update(status=Position.Status.CLOSED)
    for i in range(count):
        market.set(make_position(strike=str(500 + i)).occ_symbol, mid)
    with CaptureQueriesContext(connection) as ctx:
        sweep(now=NOW)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("mid", ["2.00", "5.10", "6.25"])  # every position exits / holds / takes a partial
def test_queries_do_not_grow_with_the_number_of_positions(market, now, mid):
    _queries(1, mid, market)  # warm the config cache
    assert _queries(1, mid, market) == _queries(20, mid, market)


def test_a_lost_race_on_the_unique_constraint_is_retried_once(market, now, monkeypatch):
    from django.db import IntegrityError

    from optionsengine.pipeline import exits

    position = make_position()
    market.set(position.occ_symbol, "2.00")
    real = exits.monitor_positions
    calls = []

    def racing(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("orders_one_open_exit_per_position")
        return real(**kwargs)

    monkeypatch.setattr(exits, "monitor_positions", racing)
    result = sweep(now=NOW)
    assert len(calls) == 2 and result.counts[f"full_exit:{R.STOP_LOSS}"] == 1
    assert len(exit_orders(position)) == 1


def test_run_once_runs_the_refresher_then_the_exit_monitor(market, now):
    from optionsengine.pipeline.run_once import run_once

    position = make_position()
    market.set(position.occ_symbol, "2.00")
    results = run_once(now=NOW, only={"position_refresher", "exit_monitor"})
    assert [(r.stage, r.ok) for r in results] == [("position_refresher", True), ("exit_monitor", True)]
    position.refresh_from_db()
    assert (position.current_price, position.status) == (D("2.0000"), "closing")
