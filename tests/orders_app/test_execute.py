"""Paper executor (SPEC §8) on the real database: fills, positions, realized P&L, caps, expiry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bias_app.models import BiasTradePerformance
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.pipeline import events, execute
from optionsengine.pipeline.execute import execute_order, sweep
from optionsengine.pipeline.run_once import run_once
from orders_app.models import Order, RiskLimit, Trade
from positions_app.models import ExitRule, Position
from tests.orders_app.builders import NIGHT, NOW, approved_with_recommendation, entry_order, exit_order

pytestmark = pytest.mark.django_db
D = Decimal


def open_position(market, *, quantity=4, mid="5.00", bid="4.90", ask="5.10", **order_fields) -> Position:
    order = entry_order(quantity=quantity, **order_fields)
    market.set(order.occ_symbol, mid, bid, ask)
    assert sweep(now=NOW).counts == {"filled:entry": 1}
    return Position.objects.get(entry_order=order)


def test_entry_fill_opens_a_position_with_entry_context(market, django_capture_on_commit_callbacks):
    call_command("seed_bias", "SPY", "BULLISH")
    approved_with_recommendation(timeframe="1h", quantity=2)
    run_once(now=NOW, only={"order_creator"})
    order = Order.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep(now=NOW)
    assert result.counts == {"filled:entry": 1} and result.ok
    order.refresh_from_db()
    assert (order.status, order.attempts, order.failure_reason) == ("filled", 1, None)
    trade = Trade.objects.get(order=order)
    # SPY is penny-pilot: 5.00 + 0.25 × 0.10 = 5.025 → 5.03 (rounded against the buyer)
    assert (trade.fill_price, trade.fill_quantity, trade.bid, trade.ask) == (D("5.03"), 2, D("4.90"), D("5.10"))
    assert (trade.realized_pnl, trade.engine, trade.is_test) == (None, "A", False)
    position = Position.objects.get(entry_order=order)
    assert (position.status, position.quantity, position.initial_quantity) == ("open", 2, 2)
    assert (position.entry_price, position.current_price, position.unrealized_pnl) == (D("5.03"), D("5.00"), D("-6.00"))
    assert position.realized_pnl == D("0.00") and position.entry_timestamp == NOW
    assert position.underlying_entry_price == D("601.20")
    assert (position.entry_bias_score, position.entry_regime_type, position.entry_macro_class) == (D("60"), "TREND", "MACRO_TREND_UP")
    assert position.entry_mode_hint == "PULLBACK" and position.entry_acceleration_state_strength_delta is not None
    assert position.greeks_at_entry == {"delta": "0.52", "gamma": "0.031", "theta": "-0.21", "vega": "0.45"}
    assert (position.iv_at_entry, position.setup_type) == (D("0.18"), "SWING")
    performance = BiasTradePerformance.objects.get(position=position)
    assert (performance.source, performance.direction, performance.engine) == ("live", "long", "A")
    assert (performance.entry_bias_score, performance.entry_regime, performance.entry_intent) == (D("60"), "TREND", "PULLBACK")
    assert performance.realized_pnl is None and performance.closed_at is None
    assert events.published_counts() == {"position_update": 1, "risk_update": 1}


def test_test_traffic_performance_row_is_simulation(market):
    position = open_position(market, is_test=True)
    assert BiasTradePerformance.objects.get(position=position).source == "simulation"
    assert position.is_test and Trade.objects.get().is_test


def test_a_replayed_session_writes_replay_performance_rows(market, settings):
    settings.TRADE_PERFORMANCE_SOURCE = "replay"  # what the demo / a backtest of recorded alerts sets
    position = open_position(market)
    assert BiasTradePerformance.objects.get(position=position).source == "replay"


def test_full_exit_realizes_pnl_and_completes_performance(market, django_capture_on_commit_callbacks):
    ExitRule.objects.update(stop_loss_percent=D("40"))
    position = open_position(market, quantity=2)  # entry 5.03
    Position.objects.filter(pk=position.pk).update(status="closing", exit_reason="profit_target")
    order = exit_order(position, reason="profit_target", codes=["profit_target", "trailing_stop"])
    market.set(position.occ_symbol, "7.00", "6.90", "7.10")
    later = NOW + timedelta(minutes=95)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(now=later).counts == {"filled:close": 1}
    trade = Trade.objects.get(order=order)
    assert (trade.fill_price, trade.realized_pnl) == (D("6.97"), D("388.00"))  # (6.97 − 5.03) × 2 × 100
    position.refresh_from_db()
    assert (position.status, position.quantity, position.realized_pnl) == ("closed", 0, D("388.00"))
    assert (position.exit_price, position.exit_timestamp, position.exit_reason) == (D("6.97"), later, "profit_target")
    assert position.exit_reason_codes == ["profit_target", "trailing_stop"] and position.unrealized_pnl == D("0.00")
    performance = BiasTradePerformance.objects.get(position=position)
    assert performance.realized_pnl == D("388.00")
    assert performance.pnl_percent == D("38.5686")  # 388 / 1006
    assert performance.pnl_r == D("0.9642")  # 388 / (1006 × 40 %) = 388 / 402.40
    assert (performance.duration_minutes, performance.closed_at) == (95, later)
    assert performance.exit_reason_codes == ["profit_target", "trailing_stop"]
    assert events.published_counts() == {"position_update": 1, "risk_update": 1}  # the exit fill's


def test_partials_then_final_close_reconcile_to_the_cent(market):
    position = open_position(market, quantity=5, mid="3.3333", bid="3.30", ask="3.37")  # 3.3333 + 0.25 × 0.0367 → 3.35
    fills = [("4.1234", "4.10", "4.15", 2), ("2.7777", "2.70", "2.80", 1), ("5.5555", "5.50", "5.60", 2)]
    realized = []
    for i, (mid, bid, ask, qty) in enumerate(fills):
        order = exit_order(position, quantity=qty, reason=f"partial_{i}" if i < 2 else "stop_loss", codes=None)
        market.set(position.occ_symbol, mid, bid, ask)
        outcome = sweep(now=NOW + timedelta(minutes=10 * (i + 1))).counts
        assert outcome == ({"filled:partial": 1} if i < 2 else {"filled:close": 1})
        realized.append(Trade.objects.get(order=order).realized_pnl)
        position.refresh_from_db()
        assert position.status == ("open" if i < 2 else "closed")
    performance = BiasTradePerformance.objects.get(position=position)
    assert sum(realized) == position.realized_pnl == performance.realized_pnl
    assert position.realized_pnl == sum(
        Trade.objects.filter(order__position=position).values_list("realized_pnl", flat=True)
    )
    assert (position.quantity, position.initial_quantity) == (0, 5)
    assert performance.exit_reason_codes == ["stop_loss"]


def test_a_partial_fill_returns_a_closing_position_to_open(market):
    position = open_position(market, quantity=4)
    Position.objects.filter(pk=position.pk).update(status="closing")
    exit_order(position, quantity=1)
    assert sweep(now=NOW).counts == {"filled:partial": 1}
    position.refresh_from_db()
    assert (position.status, position.quantity) == ("open", 3)
    assert position.unrealized_pnl == D("-9.00")  # 3 × (mark 5.00 − entry 5.03) × 100


def test_an_exit_for_a_closed_position_fails(market):
    position = open_position(market, quantity=1)
    exit_order(position)
    sweep(now=NOW)
    late = exit_order(position, quantity=1)
    assert sweep(now=NOW).counts == {"failed:position_closed": 1}
    late.refresh_from_db()
    assert (late.status, late.failure_reason) == ("failed", "position_closed")
    assert Trade.objects.filter(order=late).count() == 0


def test_daily_cap_blocks_entries_but_never_exits(market):
    RiskLimit.objects.update(max_daily_trades=1)
    position = open_position(market, quantity=2)  # the one entry of the day
    blocked = entry_order(strike="605")
    test_entry = entry_order(strike="606", is_test=True)  # test traffic is not capped
    exit_order(position)
    assert sweep(now=NOW).counts == {"filled:close": 1, "failed:daily_trade_cap_reached": 1, "filled:entry": 1}
    blocked.refresh_from_db()
    assert (blocked.status, blocked.failure_reason) == ("failed", "daily_trade_cap_reached")
    assert Order.objects.get(pk=test_entry.pk).status == "filled"


def test_daily_cap_is_counted_on_the_new_york_day(market):
    RiskLimit.objects.update(max_daily_trades=1)
    open_position(market, quantity=1)
    next_morning = NOW + timedelta(days=3)  # Monday 10:30 New York
    fresh = entry_order(strike="605", created_at=next_morning)
    assert sweep(now=next_morning).counts == {"filled:entry": 1}
    assert Order.objects.get(pk=fresh.pk).status == "filled"


def test_daily_cap_is_rechecked_inside_the_fill_transaction(market, monkeypatch):
    """Another executor filled an entry after this one read its batch: the in-transaction count wins."""
    RiskLimit.objects.update(max_daily_trades=1)
    open_position(market, quantity=1)  # the day's one entry, filled "by the other executor"
    late = entry_order(strike="605")
    real_count = execute._entry_fills_today
    calls = []

    def count_as_of_batch_read(now):
        calls.append(now)
        return 0 if len(calls) == 1 else real_count(now)  # the batch read saw no fill yet

    monkeypatch.setattr(execute, "_entry_fills_today", count_as_of_batch_read)
    assert sweep(now=NOW).counts == {"failed:daily_trade_cap_reached": 1}
    assert len(calls) == 2
    assert Order.objects.get(pk=late.pk).failure_reason == "daily_trade_cap_reached"
    assert Trade.objects.count() == 1


def test_entry_orders_expire_exit_orders_do_not(market):
    position = open_position(market, quantity=1)
    old_entry = entry_order(strike="610", created_at=NOW - timedelta(minutes=31))
    old_exit = exit_order(position, created_at=NOW - timedelta(hours=3))
    market.down = True
    result = sweep(now=NOW)
    assert result.counts == {"expired": 1, "waiting:market_data_unavailable": 1}
    old_entry.refresh_from_db()
    old_exit.refresh_from_db()
    assert (old_entry.status, old_entry.failure_reason) == ("expired", "order_expired")
    assert (old_exit.status, old_exit.attempts, old_exit.failure_reason) == ("pending_execution", 1, "market_data_unavailable")


def test_no_quote_waits_then_expires_and_writes_nothing_else(market):
    order = entry_order()
    market.down = True
    assert sweep(now=NOW).counts == {"waiting:market_data_unavailable": 1}
    assert sweep(now=NOW + timedelta(seconds=10)).counts == {"waiting:market_data_unavailable": 1}
    order.refresh_from_db()
    assert (order.status, order.attempts, order.failure_reason) == ("pending_execution", 2, "market_data_unavailable")
    assert not Trade.objects.exists() and not Position.objects.exists() and not BiasTradePerformance.objects.exists()
    assert sweep(now=NOW + timedelta(minutes=31)).counts == {"expired": 1}
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("expired", "order_expired; last: market_data_unavailable")
    assert events.published_counts() == {}


def test_a_stale_quote_never_opens_but_may_close(market):
    position = open_position(market, quantity=1)
    exit_order(position)
    entry_order(strike="612")
    market.stale = True
    assert sweep(now=NOW).counts == {"filled:close": 1, "waiting:quote_stale": 1}


def test_a_failure_inside_the_fill_rolls_everything_back(market, monkeypatch):
    order = entry_order()

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(execute.BiasTradePerformance.objects, "create", broken)
    result = sweep(now=NOW)
    assert result.errors and "disk full" in result.errors[0]
    order.refresh_from_db()
    assert (order.status, order.attempts) == ("pending_execution", 0)
    assert not Trade.objects.exists() and not Position.objects.exists()


def test_outside_regular_hours_only_test_orders_fill(market):
    live = entry_order(created_at=NIGHT - timedelta(minutes=1))
    test = entry_order(strike="603", is_test=True, created_at=NIGHT - timedelta(minutes=1))
    assert sweep(now=NIGHT).counts == {"waiting:market_closed": 1, "filled:entry": 1}
    assert Order.objects.get(pk=live.pk).attempts == 0
    assert Order.objects.get(pk=test.pk).status == "filled"


def test_entry_on_an_expired_contract_fails_and_an_exit_waits(market):
    from datetime import date

    position = open_position(market, quantity=1, strike="590")
    order = entry_order(expiration=date(2026, 3, 12))  # expired yesterday 16:00 New York
    Position.objects.filter(pk=position.pk).update(expiration=date(2026, 3, 12))
    position.refresh_from_db()
    exit_order(position)
    assert sweep(now=NOW).counts == {"failed:contract_expired": 1, "waiting:contract_expired": 1}
    assert Order.objects.get(pk=order.pk).failure_reason == "contract_expired"


def test_a_rerun_after_a_crash_between_read_and_write_doubles_nothing(market):
    order = entry_order()
    stale = list(execute._pending_orders())  # a worker read the batch, then "crashed"
    assert sweep(now=NOW).counts == {"filled:entry": 1}
    result = execute.StageResult("t")
    execute._process(stale, NOW, result)  # the late worker resumes with its stale read
    assert result.counts == {"skipped": 1}
    assert sweep(now=NOW).counts == {}
    assert Trade.objects.filter(order=order).count() == 1 and Position.objects.count() == 1
    assert BiasTradePerformance.objects.count() == 1


def test_fast_path_for_one_order(market):
    order = entry_order()
    other = entry_order(strike="610")
    assert execute_order(order.order_id, NOW) == "filled:entry"
    assert execute_order(order.order_id, NOW) == "not_pending"
    assert Order.objects.get(pk=other.pk).status == "pending_execution"


def test_full_pipeline_from_approved_signal_to_realized_pnl(market):
    approved_with_recommendation(quantity=3)
    results = {r.stage: r.counts for r in run_once(now=NOW, only={"order_creator", "paper_executor"})}
    assert results == {"order_creator": {"created": 1}, "paper_executor": {"filled:entry": 1}}
    position = Position.objects.get()
    exit_order(position)
    market.set(position.occ_symbol, "6.00", "5.95", "6.05")
    run_once(now=NOW + timedelta(hours=1), only={"paper_executor"})
    position.refresh_from_db()
    assert (position.status, position.realized_pnl) == ("closed", D("285.00"))  # (5.98 − 5.03) × 3 × 100


def _queries_per_batch(count: int, market, side: str) -> int:
    if side == "entry":
        for n in range(count):
            entry_order(strike=str(590 + n), right=OptionRight.CALL)
    else:
        for n in range(count):
            order = entry_order(strike=str(590 + n))
            market.set(order.occ_symbol, "5.00", "4.90", "5.10")
        sweep(now=NOW)
        for position in Position.objects.all():
            exit_order(position, quantity=1)
    with CaptureQueriesContext(connection) as captured:
        counts = sweep(now=NOW).counts
    assert counts == {("filled:entry" if side == "entry" else "filled:partial"): count}
    return len(captured.captured_queries)


# Per order inside the test's transaction (SAVEPOINT + RELEASE stand for BEGIN + COMMIT). Entry:
# [PG: cap advisory lock] cap count, [PG: FOR UPDATE SKIP LOCKED] claim, trade, position, performance.
# Exit (partial): position lock, [PG: FOR UPDATE SKIP LOCKED] claim, trade, position update.
PER_ORDER = {("entry", "sqlite"): 7, ("entry", "postgresql"): 9, ("exit", "sqlite"): 6, ("exit", "postgresql"): 7}


@pytest.mark.parametrize("side", ["entry", "exit"])
def test_queries_per_order_are_constant(market, side, monkeypatch):
    monkeypatch.setattr(execute, "get_bias_state", lambda symbol, now: None)  # a shared cache must not vary it
    RiskLimit.objects.update(max_daily_trades=100)  # the cap check runs inside every entry fill
    one = _queries_per_batch(1, market, side)
    BiasTradePerformance.objects.all().delete()
    Trade.objects.all().delete()
    Position.objects.all().delete()
    Order.objects.all().delete()
    ten = _queries_per_batch(10, market, side)
    assert ten - one == 9 * PER_ORDER[side, connection.vendor], (one, ten)


def test_exit_fill_of_a_test_position_is_test_even_if_the_order_is_not_flagged(market):
    position = open_position(market, quantity=1, is_test=True)
    order = exit_order(position)
    Order.objects.filter(pk=order.pk).update(is_test=False)
    assert sweep(now=NOW).counts == {"filled:close": 1}
    assert Trade.objects.get(order=order).is_test


def test_exits_are_filled_before_older_entries(market, monkeypatch):
    position = open_position(market, quantity=1)
    waiting_entry = entry_order(strike="611", created_at=NOW - timedelta(minutes=5))
    exit_order(position, created_at=NOW)
    monkeypatch.setattr(execute, "BATCH_SIZE", 1)
    assert sweep(now=NOW).counts == {"filled:close": 1}
    assert Order.objects.get(pk=waiting_entry.pk).status == "pending_execution"
