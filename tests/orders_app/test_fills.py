"""Pure fill model: slippage inside the spread, synthetic spread, tick rounding against the trader."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from orders_app.engines.fills import PENNY_PILOT, price_fill, round_to_option_tick, tick_size


@pytest.mark.parametrize(
    ("symbol", "price", "tick"),
    [
        ("XYZ", "2.99", "0.01"),
        ("XYZ", "3.00", "0.05"),
        ("XYZ", "3.01", "0.05"),
        ("XYZ", "0.05", "0.01"),
        ("SPY", "2.99", "0.01"),
        ("SPY", "3.00", "0.01"),
        ("SPY", "25.37", "0.01"),
        ("spy", "25.37", "0.01"),
    ],
)
def test_tick_size(symbol, price, tick):
    assert tick_size(symbol, D(price)) == D(tick)


@pytest.mark.parametrize(
    ("symbol", "raw", "side", "expected"),
    [
        ("XYZ", "2.991", "entry", "3.00"),  # penny grid below 3.00, rounded up for a buy
        ("XYZ", "2.991", "exit", "2.99"),  # and down for a sell
        ("XYZ", "2.99", "entry", "2.99"),  # on the tick already
        ("XYZ", "3.00", "entry", "3.00"),
        ("XYZ", "3.00", "exit", "3.00"),
        ("XYZ", "3.01", "entry", "3.05"),  # nickel grid at/above 3.00
        ("XYZ", "3.01", "exit", "3.00"),
        ("XYZ", "3.04", "exit", "3.00"),
        ("XYZ", "3.05", "exit", "3.05"),
        ("SPY", "3.01", "entry", "3.01"),  # penny-pilot: pennies everywhere
        ("SPY", "3.013", "entry", "3.02"),
        ("SPY", "3.019", "exit", "3.01"),
        ("XYZ", "0.001", "exit", "0.01"),  # never below one tick
        ("XYZ", "0.004", "entry", "0.01"),
    ],
)
def test_round_to_option_tick(symbol, raw, side, expected):
    assert round_to_option_tick(D(raw), symbol, side=side) == D(expected)


@pytest.mark.parametrize(
    ("side", "symbol", "mid", "bid", "ask", "f", "price"),
    [
        # entries pay mid + f × (ask − mid)
        ("entry", "SPY", "5.00", "4.90", "5.10", "0", "5.00"),
        ("entry", "SPY", "5.00", "4.90", "5.10", "0.25", "5.03"),  # 5.025 → up to 5.03
        ("entry", "SPY", "5.00", "4.90", "5.10", "1", "5.10"),
        ("entry", "XYZ", "5.00", "4.90", "5.10", "0.25", "5.05"),  # 5.025 on the nickel grid → 5.05
        ("entry", "XYZ", "2.00", "1.96", "2.04", "0.5", "2.02"),
        # exits receive mid − f × (mid − bid)
        ("exit", "SPY", "5.00", "4.90", "5.10", "0", "5.00"),
        ("exit", "SPY", "5.00", "4.90", "5.10", "0.25", "4.97"),  # 4.975 → down to 4.97
        ("exit", "SPY", "5.00", "4.90", "5.10", "1", "4.90"),
        ("exit", "XYZ", "5.00", "4.90", "5.10", "0.25", "4.95"),
        # no bid/ask: spread 2 % of mid, half-spread 1 %
        ("entry", "SPY", "5.00", None, None, "1", "5.05"),
        ("entry", "SPY", "5.00", None, None, "0.25", "5.02"),  # 5.0125 → 5.02
        ("exit", "SPY", "5.00", None, None, "1", "4.95"),
        ("exit", "SPY", "5.00", None, None, "0.25", "4.98"),  # 4.9875 → 4.98
        ("entry", "SPY", "5.00", None, None, "0", "5.00"),
        # an ask below mid is unusable: synthetic side instead
        ("entry", "SPY", "5.00", "4.90", "4.95", "1", "5.05"),
    ],
)
def test_price_fill(side, symbol, mid, bid, ask, f, price):
    fill = price_fill(
        side=side, symbol=symbol, mid=D(mid), bid=None if bid is None else D(bid), ask=None if ask is None else D(ask),
        slippage_fraction=D(f),
    )
    assert fill.price == D(price)
    assert fill.mid == D(mid)


def test_synthetic_spread_is_reported():
    fill = price_fill(side="entry", symbol="SPY", mid=D("2.00"), bid=None, ask=None, slippage_fraction=D("1"))
    assert fill.synthetic_spread
    assert (fill.bid, fill.ask) == (D("1.9800"), D("2.0200"))
    real = price_fill(side="entry", symbol="SPY", mid=D("2.00"), bid=D("1.95"), ask=D("2.05"), slippage_fraction=D("1"))
    assert not real.synthetic_spread and real.price == D("2.05")


@pytest.mark.parametrize("f", ["-0.01", "1.01"])
def test_slippage_fraction_outside_unit_interval_is_refused(f):
    with pytest.raises(ValueError):
        price_fill(side="entry", symbol="SPY", mid=D("1"), bid=None, ask=None, slippage_fraction=D(f))


@pytest.mark.parametrize("mid", ["0", "-1", "NaN"])
def test_non_positive_mid_is_refused(mid):
    with pytest.raises(ValueError):
        price_fill(side="exit", symbol="SPY", mid=D(mid), bid=None, ask=None, slippage_fraction=D("0.25"))


def test_unknown_side_is_refused():
    with pytest.raises(ValueError):
        price_fill(side="buy", symbol="SPY", mid=D("1"), bid=None, ask=None, slippage_fraction=D("0"))


def test_penny_pilot_set_holds_the_index_etfs():
    assert {"SPY", "QQQ", "IWM"} <= PENNY_PILOT
