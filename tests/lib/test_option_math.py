"""Black–Scholes–Merton: textbook values, put–call parity, monotonicity, IV round trips."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import pytest

from optionsengine.lib.option_contracts import OptionRight
from optionsengine.lib.option_math import (
    bs_greeks,
    bs_price,
    implied_vol,
    implied_volatility,
    value_option,
)

CALL, PUT = OptionRight.CALL, OptionRight.PUT
SPOTS = (60.0, 95.0, 100.0, 104.0, 160.0)
STRIKES = (80.0, 100.0, 125.0)
YEARS = (2 / 365, 0.1, 0.5, 2.0)
VOLS = (0.08, 0.25, 0.9)
RATES = (0.0, 0.05)
GRID = list(itertools.product(SPOTS, STRIKES, YEARS, VOLS, RATES))


def test_hull_textbook_prices():
    # Hull, Options, Futures and Other Derivatives, example 15.6: S=42, K=40, r=10 %, σ=20 %, T=0.5.
    assert round(bs_price(42, 40, 0.5, 0.2, CALL, 0.1), 2) == 4.76
    assert round(bs_price(42, 40, 0.5, 0.2, PUT, 0.1), 2) == 0.81


def test_hull_textbook_greeks():
    # Hull's delta-hedging example: S=49, K=50, r=5 %, σ=20 %, T=20 weeks.
    greeks = bs_greeks(49, 50, 0.3846, 0.2, CALL, 0.05)
    assert round(greeks.delta, 3) == 0.522
    assert round(greeks.gamma, 3) == 0.066
    assert round(greeks.theta * 365, 2) == -4.31  # per year in the book; we report per day
    assert round(greeks.vega * 100, 1) == 12.1  # per unit σ in the book; we report per vol point


@pytest.mark.parametrize(("spot", "strike", "years", "vol", "rate"), GRID)
def test_put_call_parity(spot, strike, years, vol, rate):
    call = bs_price(spot, strike, years, vol, CALL, rate)
    put = bs_price(spot, strike, years, vol, PUT, rate)
    assert call - put == pytest.approx(spot - strike * math.exp(-rate * years), abs=1e-9)


@pytest.mark.parametrize(("spot", "strike", "years", "vol", "rate"), GRID)
def test_greeks_obey_parity_and_put_theta_is_not_the_call_theta(spot, strike, years, vol, rate):
    call = bs_greeks(spot, strike, years, vol, CALL, rate)
    put = bs_greeks(spot, strike, years, vol, PUT, rate)
    assert call.delta - put.delta == pytest.approx(1.0)
    assert call.gamma == pytest.approx(put.gamma)
    assert call.vega == pytest.approx(put.vega)
    # d(C − P)/dt per day = −r·K·e^(−rT)/365: puts decay slower by exactly the carry.
    assert call.theta - put.theta == pytest.approx(-rate * strike * math.exp(-rate * years) / 365, abs=1e-12)


@pytest.mark.parametrize(("strike", "years", "vol", "rate"), list(itertools.product(STRIKES, YEARS, VOLS, RATES)))
def test_prices_are_monotonic_in_spot(strike, years, vol, rate):
    calls = [bs_price(s, strike, years, vol, CALL, rate) for s in SPOTS]
    puts = [bs_price(s, strike, years, vol, PUT, rate) for s in SPOTS]
    assert calls == sorted(calls)
    assert puts == sorted(puts, reverse=True)


@pytest.mark.parametrize(("spot", "strike", "years", "rate", "right"), list(itertools.product(SPOTS, STRIKES, YEARS, RATES, (CALL, PUT))))
def test_prices_increase_with_volatility(spot, strike, years, rate, right):
    prices = [bs_price(spot, strike, years, v, right, rate) for v in (0.05, 0.2, 0.5, 1.0, 2.0)]
    assert all(b >= a - 1e-12 for a, b in zip(prices, prices[1:], strict=False))
    assert prices[-1] > prices[0]


@pytest.mark.parametrize(("spot", "strike", "vol", "right"), list(itertools.product(SPOTS, STRIKES, VOLS, (CALL, PUT))))
def test_prices_increase_with_time_without_carry(spot, strike, vol, right):
    # Without interest or dividends, more time can only add value.
    prices = [bs_price(spot, strike, t, vol, right, 0.0) for t in (0.0, 1 / 365, 0.1, 0.5, 2.0)]
    assert all(b >= a - 1e-12 for a, b in zip(prices, prices[1:], strict=False))


@pytest.mark.parametrize(("spot", "strike", "years", "vol", "rate"), GRID)
@pytest.mark.parametrize("right", [CALL, PUT])
def test_implied_volatility_round_trips(spot, strike, years, vol, rate, right):
    premium = bs_price(spot, strike, years, vol, right, rate)
    vega = bs_greeks(spot, strike, years, vol, right, rate).vega
    solved = implied_volatility(premium, spot, strike, years, right, rate)
    if vega < 1e-6:
        # Deep in or out of the money the price carries no information about volatility:
        # any answer must still reprice the premium.
        assert solved is None or bs_price(spot, strike, years, solved, right, rate) == pytest.approx(premium, abs=1e-6)
    else:
        assert solved == pytest.approx(vol, rel=1e-5)


def test_implied_volatility_refuses_unattainable_premiums():
    assert implied_volatility(0.0, 100, 100, 0.5, CALL) is None
    assert implied_volatility(1.0, 100, 50, 0.5, CALL) is None  # below intrinsic
    assert implied_volatility(101.0, 100, 100, 0.5, CALL) is None  # above the spot itself
    assert implied_volatility(5.0, 100, 100, 0.0, CALL) is None  # expired


def test_expired_or_riskless_options_are_worth_intrinsic_value():
    assert bs_price(105, 100, 0.0, 0.3, CALL) == 5
    assert bs_price(95, 100, 0.0, 0.3, PUT) == 5
    assert bs_price(95, 100, 0.0, 0.3, CALL) == 0
    expired = bs_greeks(105, 100, 0.0, 0.3, PUT)
    assert (expired.delta, expired.gamma, expired.theta) == (0.0, 0.0, 0.0)
    assert bs_greeks(95, 100, 0.0, 0.3, PUT).delta == -1.0


def test_decimal_edges():
    valuation = value_option(spot=Decimal("42"), strike=Decimal("40"), years=0.5, vol=0.2, right=CALL, rate=0.1)
    assert valuation.price == Decimal("4.7594")
    assert valuation.delta == Decimal("0.7791")
    assert valuation.theta < 0
    assert implied_vol(premium=Decimal("4.7594"), spot=Decimal("42"), strike=Decimal("40"), years=0.5, right=CALL, rate=0.1) == Decimal("0.2000")
    assert implied_vol(premium=Decimal("0.01"), spot=Decimal("42"), strike=Decimal("40"), years=0.5, right=CALL) is None
