"""Trades from alert to realized money, end to end (issue 9 "must show"; SPEC §7–§11, §15).

Every test drives the real service: the bias state and the alerts go in through the HTTP webhooks,
and `run_once` runs every stage (orchestrator → order creator → paper executor → position
refresher → exit monitor) at moments chosen with `clock.override`, on the deterministic simulated
market. Nothing is built by hand: orders, fills, positions and trade performance rows are what the
stages wrote.

How the market is steered: an accepted alert carrying `price` re-anchors the symbol's simulated
path to that price at that instant. To move the option later, a test posts a *short* alert on
SPY with the wanted underlying price; the bias is bullish, so the orchestrator rejects it (it
never trades — each step checks it), but the anchor moves the market the open long call is marked
and filled against. Between anchors the path keeps its own deterministic walk, so a fill one minute
after an anchor is a little away from it.

The one patch on the decision side is `mid_band_iv()` (as in tests/pipeline): it pins the IV rank
Engine A reads to 50, so its volatility band passes whatever volatility regime the simulated
market is in on 2026-03-13; marks and fills are never patched. The fault tests patch only what
they name: the simulated provider's option quote (an outage), or one write inside a stage (a
process killed between its read and its write).

Expected figures: each fill is computed in the test from the quote the simulated market gives at
that instant (the fill model written out: SPY is penny-pilot, so every price ticks in 0.01; buys
round up, sells down; slippage fraction 0.25), P&L from the fills with the P&L rules, and then
every figure is also asserted as the literal Decimal string the database holds — so a change to
the fill model, the P&L rules or the market shows up here.

The position every test opens: Fri 2026-03-13 11:00 New York, SPY at 600.00, a 1h long alert →
Engine A buys 4 × SPY 2026-04-10 600 call (SWING setup) at 9.97 (quote 9.90 × 10.00, mid 9.95).
Cost basis 3988.00 USD; initial risk at the 50 % stop = 1994.00 USD.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from unittest import mock

import pytest
from django.db.models import Sum

from bias_app.engines.seed import seed_payload
from bias_app.engines.staleness import now_ms
from bias_app.models import BiasTradePerformance
from optionsengine import marketdata
from optionsengine.lib import clock
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.errors import NoDataError
from optionsengine.marketdata.simulated.provider import SimulatedProvider
from optionsengine.marketdata.types import OptionContract, OptionQuote
from optionsengine.pipeline import create_orders, execute, exits
from optionsengine.pipeline.run_once import run_once
from orders_app.models import Order, Trade
from positions_app.models import ExitRule, Position
from signals_app.models import Signal
from tests.pipeline.builders import utc
from tests.pipeline.test_orchestrate import mid_band_iv

pytestmark = pytest.mark.django_db

T0 = utc(2026, 3, 13, 15, 0)  # Fri 2026-03-13 11:00 New York (EDT), regular hours
CONTRACT = OptionContract("SPY", date(2026, 4, 10), OptionRight.CALL, Decimal("600"))
SLIPPAGE = Decimal("0.25")  # PAPER_SLIPPAGE_FRACTION's default
CENT = Decimal("0.01")


def minutes(n: int):
    return T0 + timedelta(minutes=n)


# --- driving the service ---------------------------------------------------------------------------


def post_bias(post_webhook, at) -> None:
    """A bullish V3 bias state for SPY through POST /api/webhooks/mtf-bias."""
    with clock.override(at):
        response, body = post_webhook(seed_payload("SPY", "BULLISH", event_ts_ms=now_ms(at), session="RTH"),
                                      path="/api/webhooks/mtf-bias")
    assert response.status_code == 200, body


def post_alert(post_webhook, at, *, direction: str, price: str) -> Signal:
    with clock.override(at):
        response, body = post_webhook({"ticker": "SPY", "interval": "60", "direction": direction,
                                       "confidence": 85, "price": price})
    assert response.status_code == 201, body
    return Signal.objects.get(pk=body["signal_id"])


def run(at, *, errors: bool = False) -> dict[str, dict]:
    """`run_once` at `at`; the counts per stage. Stage errors fail the test unless expected."""
    with clock.override(at), mid_band_iv():
        results = run_once(now=at)
    failed = {r.stage: r.errors for r in results if r.errors}
    assert bool(failed) == errors, failed
    return {r.stage: dict(r.counts) for r in results}


def steer(post_webhook, at, price: str) -> dict[str, dict]:
    """Move SPY to `price` at `at` with an alert the orchestrator rejects, then run every stage."""
    signal = post_alert(post_webhook, at, direction="short", price=price)
    counts = run(at)
    signal.refresh_from_db()
    assert signal.status == Signal.Status.REJECTED and not signal.orders.exists()
    return counts


def observed_quote(at) -> OptionQuote:
    """The quote the stages get at `at` (same service, same instant)."""
    with clock.override(at):
        return marketdata.get_service().option_quote(CONTRACT)


def expected_fill(quote: OptionQuote, side: str) -> Decimal:
    """The fill model, written out for a penny-pilot symbol: buys pay mid + f × (ask − mid) rounded
    up to the cent, sells receive mid − f × (mid − bid) rounded down."""
    if side == "entry":
        return (quote.mid + SLIPPAGE * (quote.ask - quote.mid)).quantize(CENT, ROUND_CEILING)
    return (quote.mid - SLIPPAGE * (quote.mid - quote.bid)).quantize(CENT, ROUND_FLOOR)


def open_spy_call(post_webhook) -> Position:
    """Bias and a long alert at T0; one `run_once` fills the entry. Returns the open position."""
    post_bias(post_webhook, T0)
    signal = post_alert(post_webhook, T0, direction="long", price="600.00")
    quote = observed_quote(T0)
    counts = run(T0)
    assert counts["orchestrator"] == {"claimed": 1, "approved": 1}
    assert counts["order_creator"] == {"created": 1}
    assert counts["paper_executor"] == {"filled:entry": 1}
    assert counts["position_refresher"] == {"refreshed": 1}
    assert counts["exit_monitor"] == {"hold": 1}  # younger than EXIT_MIN_HOLD_MINUTES

    signal.refresh_from_db()
    order = signal.orders.get()
    trade = order.trade
    assert (order.side, order.status, order.option_symbol, order.quantity) == ("entry", "filled", "SPY-20260410-C-600", 4)
    assert (str(quote.bid), str(quote.ask), str(quote.mid)) == ("9.9000", "10.0000", "9.9500")
    assert trade.fill_price == expected_fill(quote, "entry")
    assert (str(trade.fill_price), str(trade.bid), str(trade.ask), trade.fill_quantity) == ("9.9700", "9.9000", "10.0000", 4)
    assert trade.realized_pnl is None  # entries realize nothing

    position = Position.objects.get(entry_order=order)
    assert (position.status, position.quantity, position.initial_quantity, position.setup_type) == ("open", 4, 4, "SWING")
    assert (str(position.entry_price), str(position.current_price), str(position.underlying_entry_price)) == (
        "9.9700", "9.9500", "600.0000")
    assert (str(position.unrealized_pnl), str(position.realized_pnl)) == ("-8.00", "0.00")  # (9.95 − 9.97) × 4 × 100
    performance = BiasTradePerformance.objects.get(position=position)
    assert (performance.source, performance.realized_pnl, performance.closed_at) == ("live", None, None)
    return position


def assert_reconciles(position: Position, total: str) -> BiasTradePerformance:
    """Σ realized P&L of the position's exit fills = position.realized_pnl = performance, to the cent."""
    position.refresh_from_db()
    exit_fills = Trade.objects.filter(order__position=position, order__side=Order.Side.EXIT)
    performance = BiasTradePerformance.objects.get(position=position)
    summed = exit_fills.aggregate(total=Sum("realized_pnl"))["total"]
    assert summed == position.realized_pnl == performance.realized_pnl
    assert str(position.realized_pnl) == str(performance.realized_pnl) == total
    assert sum(t.fill_quantity for t in exit_fills) == position.initial_quantity
    return performance


@contextlib.contextmanager
def option_quotes_down():
    """Every option quote fails at the provider (a feed outage); chains and stock quotes still answer."""
    with mock.patch.object(SimulatedProvider, "option_quote", side_effect=NoDataError("option quotes are down")):
        yield


def killed_after(real, what: str):
    """A stand-in for `real` that does its work and then dies, as a killed process would."""

    def die(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError(f"killed after {what}")

    return die


# --- 1. a winner: ladder rung, then the trailing stop ----------------------------------------------


def test_entry_refresh_partial_at_the_ladder_rung_then_trailing_stop_close(post_webhook):
    position = open_spy_call(post_webhook)

    # +10 min: SPY 605 → mid 13.015, +30.54 %: the refresher arms the trailing stop (≥ 20 %) at
    # 85 % of the high-water mark; the monitor takes SWING rung +25 % (33 % of 4 → 1 contract).
    counts = steer(post_webhook, minutes(10), "605")
    assert counts["position_refresher"] == {"refreshed": 1}
    assert counts["exit_monitor"] == {"partial_exit:profit_target_reached": 1}
    position.refresh_from_db()
    assert (str(position.current_price), str(position.high_water_mark), str(position.trailing_stop_price)) == (
        "13.0150", "13.0150", "11.0628")  # 13.015 × 0.85 = 11.06275
    assert (str(position.unrealized_pnl), str(position.position_pnl_percent)) == ("1218.00", "30.5416")
    assert (position.status, position.partials_taken) == ("open", ["profit_target_reached:25"])
    rung = position.exit_orders.get()
    assert (rung.status, rung.quantity, rung.exit_reason, rung.exit_reason_codes) == (
        "pending_execution", 1, "profit_target_reached", ["profit_target_reached"])

    # +11 min: the executor sells the contract; the rung does not fire again.
    quote = observed_quote(minutes(11))
    counts = run(minutes(11))
    assert counts["paper_executor"] == {"filled:partial": 1}
    assert counts["exit_monitor"] == {"hold": 1}
    rung_fill = Trade.objects.get(order=rung)
    assert rung_fill.fill_price == expected_fill(quote, "exit")
    assert rung_fill.realized_pnl == (rung_fill.fill_price - Decimal("9.97")) * 1 * 100
    assert (str(rung_fill.fill_price), str(rung_fill.bid), str(rung_fill.ask), rung_fill.fill_quantity) == (
        "13.2900", "13.2400", "13.3900", 1)  # 13.315 − 0.25 × 0.075 = 13.29625 ↓
    assert str(rung_fill.realized_pnl) == "332.00"
    position.refresh_from_db()
    assert (position.status, position.quantity, str(position.realized_pnl)) == ("open", 3, "332.00")
    assert (str(position.high_water_mark), str(position.trailing_stop_price)) == ("13.3150", "11.3178")  # ratcheted up
    assert position.partials_taken == ["profit_target_reached:25"]
    assert position.exit_orders.count() == 1

    # +20 min: SPY 601 → mid 10.53 ≤ the 11.3178 stop: a full exit of the 3 left.
    counts = steer(post_webhook, minutes(20), "601")
    assert counts["exit_monitor"] == {"full_exit:trailing_stop": 1}
    position.refresh_from_db()
    assert (position.status, str(position.current_price), str(position.trailing_stop_price)) == (
        "closing", "10.5300", "11.3178")  # the refresher never lowers the stop
    stop_order = position.exit_orders.get(exit_reason="trailing_stop")
    assert (stop_order.quantity, stop_order.exit_reason_codes) == (3, ["trailing_stop"])

    # +21 min: the close fills.
    quote = observed_quote(minutes(21))
    counts = run(minutes(21))
    assert counts["paper_executor"] == {"filled:close": 1}
    close_fill = Trade.objects.get(order=stop_order)
    assert close_fill.fill_price == expected_fill(quote, "exit")
    assert close_fill.realized_pnl == (close_fill.fill_price - Decimal("9.97")) * 3 * 100
    assert (str(close_fill.fill_price), str(close_fill.bid), str(close_fill.ask), close_fill.fill_quantity) == (
        "10.6700", "10.6300", "10.7400", 3)  # 10.685 − 0.25 × 0.055 = 10.67125 ↓
    assert str(close_fill.realized_pnl) == "210.00"

    performance = assert_reconciles(position, "542.00")  # 332.00 + 210.00
    assert (position.status, position.quantity, str(position.exit_price), position.exit_timestamp) == (
        "closed", 0, "10.6700", minutes(21))
    assert (str(position.unrealized_pnl), str(position.position_pnl_percent)) == ("0.00", "13.5908")
    assert position.exit_reason == "trailing_stop"
    assert position.exit_reason_codes == ["trailing_stop", "profit_target_reached"]
    assert position.partials_taken == ["profit_target_reached:25"]  # the rung, once
    # pnl % on the whole cost basis, R on the initial risk (cost basis × 50 % stop)
    assert performance.pnl_percent == (Decimal("542.00") / Decimal("3988.00") * 100).quantize(Decimal("0.0001"))
    assert performance.pnl_r == (Decimal("542.00") / Decimal("1994.00")).quantize(Decimal("0.0001"))
    assert (str(performance.pnl_percent), str(performance.pnl_r)) == ("13.5908", "0.2718")
    assert (performance.duration_minutes, performance.closed_at, performance.source) == (21, minutes(21), "live")
    assert performance.exit_reason_codes == ["trailing_stop", "profit_target_reached"]


# --- 2. a loser: the stop loss -------------------------------------------------------------------


def test_losing_trade_closed_by_the_stop_loss(post_webhook):
    position = open_spy_call(post_webhook)

    # +10 min: SPY 589 (−1.8 %, inside the SWING thesis band of 2 %) → mid 4.82, −51.65 % ≤ −50 %.
    counts = steer(post_webhook, minutes(10), "589")
    assert counts["exit_monitor"] == {"full_exit:stop_loss": 1}
    position.refresh_from_db()
    assert (position.status, str(position.current_price), str(position.position_pnl_percent)) == (
        "closing", "4.8200", "-51.6550")
    order = position.exit_orders.get()
    # delta fell more than 30 % (tier 4): noted with the stop raised to 90 % of the mark
    assert (order.quantity, order.exit_reason, order.exit_reason_codes) == (4, "stop_loss", ["stop_loss", "delta_decay"])
    assert str(position.trailing_stop_price) == "4.3380"

    quote = observed_quote(minutes(11))
    counts = run(minutes(11))
    assert counts["paper_executor"] == {"filled:close": 1}
    fill = Trade.objects.get(order=order)
    assert fill.fill_price == expected_fill(quote, "exit")
    assert (str(fill.fill_price), str(fill.bid), str(fill.ask), fill.fill_quantity) == ("4.9700", "4.9500", "5.0200", 4)
    assert str(fill.realized_pnl) == "-2000.00"  # (4.97 − 9.97) × 4 × 100

    performance = assert_reconciles(position, "-2000.00")
    assert (position.status, str(position.exit_price), position.exit_reason) == ("closed", "4.9700", "stop_loss")
    assert position.exit_reason_codes == ["stop_loss", "delta_decay"]
    assert (str(position.position_pnl_percent), str(performance.pnl_percent), str(performance.pnl_r)) == (
        "-50.1505", "-50.1505", "-1.0030")  # −2000 / 3988; −2000 / 1994
    assert performance.exit_reason_codes == ["stop_loss", "delta_decay"]
    assert position.partials_taken == []


# --- 3. expiry day ----------------------------------------------------------------------------------


def test_expiry_day_forced_close_in_the_last_half_hour(post_webhook):
    """An operator holding to expiry (min DTE and max hold off): the forced close is the safety net.
    It is not due the night before nor before the open; it fires 30 minutes before the close."""
    assert ExitRule.objects.filter(enabled=True).update(min_dte_exit=0, max_hold_time_hours=0) == 1  # the seeded row
    position = open_spy_call(post_webhook)

    for night in (utc(2026, 4, 10, 0, 0), utc(2026, 4, 10, 12, 0)):  # Thu 20:00, Fri 08:00 New York
        counts = run(night)
        assert counts["position_refresher"] == {"market_closed": 1}
        assert counts["exit_monitor"] == {"market_closed": 1, "hold": 1}
    assert not position.exit_orders.exists()

    last_half_hour = utc(2026, 4, 10, 19, 30)  # Fri 15:30 New York: close − EXPIRATION_DAY_CLOSE_LEAD_MINUTES
    counts = run(last_half_hour)
    assert counts["exit_monitor"] == {"full_exit:expiration_day_close": 1}
    order = position.exit_orders.get()
    # the overdue SWING progress check (3 days, P&L < 10 %) asked for a partial too: the full exit wins
    assert (order.quantity, order.exit_reason, order.exit_reason_codes) == (
        4, "expiration_day_close", ["expiration_day_close", "progress_check_failed"])
    position.refresh_from_db()
    assert (position.status, position.partials_taken) == ("closing", [])

    quote = observed_quote(last_half_hour + timedelta(minutes=1))
    counts = run(last_half_hour + timedelta(minutes=1))
    assert counts["paper_executor"] == {"filled:close": 1}
    fill = Trade.objects.get(order=order)
    assert fill.fill_price == expected_fill(quote, "exit")
    # expiry-day spreads are wide: 7.11 − 0.25 × 0.32 = 7.03
    assert (str(fill.fill_price), str(fill.bid), str(fill.ask), fill.fill_quantity) == ("7.0300", "6.7900", "7.4300", 4)
    assert str(fill.realized_pnl) == "-1176.00"  # (7.03 − 9.97) × 4 × 100

    performance = assert_reconciles(position, "-1176.00")
    assert (position.status, str(position.exit_price), position.exit_reason) == ("closed", "7.0300", "expiration_day_close")
    assert (str(position.position_pnl_percent), str(performance.pnl_percent), str(performance.pnl_r)) == (
        "-29.4885", "-29.4885", "-0.5898")  # −1176 / 3988; −1176 / 1994
    assert performance.exit_reason_codes == ["expiration_day_close", "progress_check_failed"]
    assert performance.duration_minutes == 40591  # 28 days 4 h 31 min


def test_expiry_day_close_found_after_the_bell_waits_and_invents_no_money(post_webhook):
    """A monitor that first sees the position after the expiry-day close still creates the forced
    exit (forced closes run at any hour), but nothing fills: non-test orders wait for regular
    hours, and once the contract has expired the executor has no price to close at (there is no
    settlement model): the order waits with `contract_expired` for an operator. No P&L is made up."""
    position = open_spy_call(post_webhook)

    after_bell = utc(2026, 4, 10, 20, 30)  # Fri 16:30 New York
    counts = run(after_bell)
    assert counts["exit_monitor"] == {"market_closed": 1, "full_exit:expiration_day_close": 1}
    order = position.exit_orders.get()
    assert (order.quantity, order.exit_reason, order.exit_reason_codes) == (4, "expiration_day_close", ["expiration_day_close"])

    counts = run(after_bell + timedelta(minutes=1))
    assert counts["paper_executor"] == {"waiting:market_closed": 1}
    monday = utc(2026, 4, 13, 14, 0)  # Mon 10:00 New York
    counts = run(monday)
    assert counts["paper_executor"] == {"waiting:contract_expired": 1}
    order.refresh_from_db()
    position.refresh_from_db()
    assert (order.status, order.failure_reason, order.attempts) == ("pending_execution", "contract_expired", 1)
    assert (position.status, position.quantity, str(position.realized_pnl)) == ("closing", 4, "0.00")
    assert not Trade.objects.filter(order__side="exit").exists()
    assert BiasTradePerformance.objects.get(position=position).realized_pnl is None


# --- 4. faults ---------------------------------------------------------------------------------------


def test_entry_waits_while_option_quotes_are_unavailable_then_fills_once_they_return(post_webhook):
    post_bias(post_webhook, T0)
    signal = post_alert(post_webhook, T0, direction="long", price="600.00")
    with option_quotes_down():
        first = run(T0)
        second = run(minutes(1))
    assert first["paper_executor"] == second["paper_executor"] == {"waiting:market_data_unavailable": 1}
    order = signal.orders.get()
    assert (order.status, order.failure_reason, order.attempts) == ("pending_execution", "market_data_unavailable", 2)
    assert not Trade.objects.exists() and not Position.objects.exists() and not BiasTradePerformance.objects.exists()

    quote = observed_quote(minutes(2))
    counts = run(minutes(2))
    assert counts["paper_executor"] == {"filled:entry": 1}
    order.refresh_from_db()
    assert (order.status, order.failure_reason, order.attempts) == ("filled", None, 3)
    trade = order.trade
    assert trade.fill_price == expected_fill(quote, "entry")
    # priced at the quote of the moment it filled, not the one it was created at
    assert (str(trade.fill_price), str(trade.bid), str(trade.ask)) == ("9.9500", "9.8900", "9.9800")
    position = Position.objects.get()
    assert (position.entry_price, position.quantity, position.entry_timestamp) == (trade.fill_price, 4, minutes(2))
    assert BiasTradePerformance.objects.filter(position=position).count() == 1


def test_entry_expires_when_quotes_stay_unavailable_and_nothing_is_half_written(post_webhook):
    post_bias(post_webhook, T0)
    signal = post_alert(post_webhook, T0, direction="long", price="600.00")
    with option_quotes_down():
        run(T0)
        counts = run(minutes(31))  # ORDER_EXPIRATION_MINUTES = 30
    assert counts["paper_executor"] == {"expired": 1}
    order = signal.orders.get()
    assert (order.status, order.failure_reason) == ("expired", "order_expired; last: market_data_unavailable")
    counts = run(minutes(32))  # quotes are back: an expired entry never fills late
    assert counts["paper_executor"] == {} and counts["order_creator"] == {}
    assert not Trade.objects.exists() and not Position.objects.exists() and not BiasTradePerformance.objects.exists()
    assert Order.objects.count() == 1


def test_exit_order_waits_out_a_quote_outage_and_never_expires(post_webhook):
    """Exits are never expired (closing risk must not be dropped): the rung's order waits through a
    40-minute outage with its reason and attempts, then fills at the quote of the moment it fills."""
    position = open_spy_call(post_webhook)
    steer(post_webhook, minutes(10), "605")
    rung = position.exit_orders.get()
    with option_quotes_down():
        first = run(minutes(15))  # the last-known quote (+10) is older than 120 s: nothing to fill at
        later = run(minutes(50))  # past ORDER_EXPIRATION_MINUTES
    assert first["paper_executor"] == later["paper_executor"] == {"waiting:market_data_unavailable": 1}
    assert first["position_refresher"] == {"quote_unavailable": 1, "refreshed": 0}
    rung.refresh_from_db()
    position.refresh_from_db()
    assert (rung.status, rung.failure_reason, rung.attempts) == ("pending_execution", "market_data_unavailable", 2)
    assert (position.status, position.quantity, str(position.realized_pnl)) == ("open", 4, "0.00")
    assert not Trade.objects.filter(order=rung).exists()

    quote = observed_quote(minutes(51))
    counts = run(minutes(51))
    assert counts["paper_executor"] == {"filled:partial": 1}
    fill = Trade.objects.get(order=rung)
    assert fill.fill_price == expected_fill(quote, "exit")
    assert (str(fill.fill_price), str(fill.bid), str(fill.ask), str(fill.realized_pnl)) == (
        "13.9200", "13.8600", "14.0200", "395.00")  # (13.92 − 9.97) × 1 × 100
    position.refresh_from_db()
    assert (position.quantity, str(position.realized_pnl)) == (3, "395.00")


def test_order_creator_killed_before_commit_creates_exactly_one_order_on_rerun(post_webhook):
    post_bias(post_webhook, T0)
    signal = post_alert(post_webhook, T0, direction="long", price="600.00")
    real = create_orders.after_commit
    with mock.patch.object(create_orders, "after_commit", side_effect=killed_after(real, "inserting the order")):
        counts = run(T0, errors=True)
    assert counts["order_creator"] == {} and counts["paper_executor"] == {}
    signal.refresh_from_db()
    assert signal.status == "approved" and not signal.orders.exists()

    counts = run(minutes(1))
    assert counts["order_creator"] == {"created": 1}
    assert counts["paper_executor"] == {"filled:entry": 1}
    assert signal.orders.count() == 1 and Position.objects.count() == 1 and Trade.objects.count() == 1


def test_executor_killed_inside_the_entry_fill_leaves_nothing_and_the_rerun_fills_once(post_webhook):
    post_bias(post_webhook, T0)
    signal = post_alert(post_webhook, T0, direction="long", price="600.00")
    with mock.patch.object(execute, "_insert_trade", side_effect=killed_after(execute._insert_trade, "the claim and the trade")):
        counts = run(T0, errors=True)
    assert counts["order_creator"] == {"created": 1} and counts["paper_executor"] == {}
    order = signal.orders.get()
    assert (order.status, order.attempts) == ("pending_execution", 0)  # the claim rolled back with the trade
    assert not Trade.objects.exists() and not Position.objects.exists() and not BiasTradePerformance.objects.exists()

    quote = observed_quote(minutes(1))
    counts = run(minutes(1))
    assert counts["paper_executor"] == {"filled:entry": 1}
    assert Trade.objects.count() == Position.objects.count() == BiasTradePerformance.objects.count() == 1
    trade = Trade.objects.get()
    assert trade.fill_price == expected_fill(quote, "entry")
    assert (str(trade.fill_price), trade.fill_quantity, trade.order_id) == ("9.9500", 4, order.order_id)
    position = Position.objects.get()
    assert (str(position.entry_price), position.quantity, position.entry_timestamp) == ("9.9500", 4, minutes(1))


def test_exit_monitor_killed_while_writing_leaves_no_order_and_the_rung_fires_once_on_rerun(post_webhook):
    position = open_spy_call(post_webhook)
    real = exits.bulk_update_rows
    with mock.patch.object(exits, "bulk_update_rows", side_effect=killed_after(real, "the exit order insert")):
        signal = post_alert(post_webhook, minutes(10), direction="short", price="605")
        counts = run(minutes(10), errors=True)
    assert counts["position_refresher"] == {"refreshed": 1} and counts["exit_monitor"] == {}
    position.refresh_from_db()
    assert (position.status, position.partials_taken, position.exit_reason_codes) == ("open", [], [])
    assert not position.exit_orders.exists()
    signal.refresh_from_db()
    assert signal.status == "rejected" and not signal.orders.exists()

    counts = run(minutes(10))  # the monitor runs again on the same market
    assert counts["exit_monitor"] == {"partial_exit:profit_target_reached": 1}
    counts = run(minutes(11))
    assert counts["paper_executor"] == {"filled:partial": 1} and counts["exit_monitor"] == {"hold": 1}
    position.refresh_from_db()
    assert position.exit_orders.count() == 1
    assert (position.quantity, position.partials_taken) == (3, ["profit_target_reached:25"])
    assert str(position.realized_pnl) == "332.00"


def test_executor_killed_inside_an_exit_fill_realizes_nothing_and_the_rerun_fills_once(post_webhook):
    position = open_spy_call(post_webhook)
    steer(post_webhook, minutes(10), "605")  # the rung's exit order
    rung = position.exit_orders.get()
    with mock.patch.object(execute, "_insert_trade", side_effect=killed_after(execute._insert_trade, "the exit trade")):
        counts = run(minutes(11), errors=True)
    assert counts["paper_executor"] == {}
    rung.refresh_from_db()
    position.refresh_from_db()
    assert (rung.status, rung.attempts) == ("pending_execution", 0)
    assert (position.quantity, str(position.realized_pnl)) == (4, "0.00")
    assert not Trade.objects.filter(order=rung).exists()

    quote = observed_quote(minutes(12))
    counts = run(minutes(12))
    assert counts["paper_executor"] == {"filled:partial": 1}
    fill = Trade.objects.get(order=rung)
    assert fill.fill_price == expected_fill(quote, "exit")
    assert (str(fill.fill_price), fill.fill_quantity, str(fill.realized_pnl)) == ("12.8500", 1, "288.00")  # (12.85 − 9.97) × 100
    position.refresh_from_db()
    assert (position.quantity, str(position.realized_pnl), position.partials_taken) == (
        3, "288.00", ["profit_target_reached:25"])
    assert Trade.objects.filter(order__position=position).count() == 1
