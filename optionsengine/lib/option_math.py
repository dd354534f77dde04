"""Black–Scholes–Merton prices, greeks and implied volatility for European calls and puts.

Pure. The core works in floats (the model is an approximation; float error is far below a
cent); `value_option` and `implied_vol` are the Decimal edges the rest of the service uses.
Units: `years` is calendar time to expiry, `vol`, `rate` and `dividend_yield` are annual
fractions (0.2 = 20 %). Theta is per calendar day, vega per vol point, rho per rate point.
Unlike the system this replaces, puts get the put theta, not the call formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from optionsengine.lib import money
from optionsengine.lib.option_contracts import OptionRight

DEFAULT_RISK_FREE_RATE = 0.04
IV_LOWER = 1e-4
IV_UPPER = 5.0
_SQRT_2PI = math.sqrt(2 * math.pi)


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / _SQRT_2PI


@dataclass(frozen=True)
class Greeks:
    delta: float
    gamma: float
    theta: float  # per calendar day
    vega: float  # per 1 vol point (0.01)
    rho: float  # per 1 rate point (0.01)


def _d1_d2(s: float, k: float, t: float, vol: float, r: float, q: float) -> tuple[float, float]:
    sig_t = vol * math.sqrt(t)
    d1 = (math.log(s / k) + (r - q + 0.5 * vol * vol) * t) / sig_t
    return d1, d1 - sig_t


def _degenerate(t: float, vol: float) -> bool:
    return t <= 0.0 or vol <= 0.0


def bs_price(
    spot: float,
    strike: float,
    years: float,
    vol: float,
    right: OptionRight,
    rate: float = DEFAULT_RISK_FREE_RATE,
    dividend_yield: float = 0.0,
) -> float:
    if _degenerate(years, vol):
        # Expired or riskless: the discounted forward intrinsic value.
        t = max(years, 0.0)
        forward_gap = spot * math.exp(-dividend_yield * t) - strike * math.exp(-rate * t)
        return max(forward_gap if right is OptionRight.CALL else -forward_gap, 0.0)
    d1, d2 = _d1_d2(spot, strike, years, vol, rate, dividend_yield)
    disc_s = spot * math.exp(-dividend_yield * years)
    disc_k = strike * math.exp(-rate * years)
    if right is OptionRight.CALL:
        return disc_s * norm_cdf(d1) - disc_k * norm_cdf(d2)
    return disc_k * norm_cdf(-d2) - disc_s * norm_cdf(-d1)


def bs_greeks(
    spot: float,
    strike: float,
    years: float,
    vol: float,
    right: OptionRight,
    rate: float = DEFAULT_RISK_FREE_RATE,
    dividend_yield: float = 0.0,
) -> Greeks:
    if _degenerate(years, vol):
        in_the_money = spot > strike if right is OptionRight.CALL else spot < strike
        delta = (1.0 if right is OptionRight.CALL else -1.0) if in_the_money else 0.0
        return Greeks(delta=delta, gamma=0.0, theta=0.0, vega=0.0, rho=0.0)
    d1, d2 = _d1_d2(spot, strike, years, vol, rate, dividend_yield)
    growth_q = math.exp(-dividend_yield * years)
    disc_k = strike * math.exp(-rate * years)
    pdf_d1 = norm_pdf(d1)
    gamma = growth_q * pdf_d1 / (spot * vol * math.sqrt(years))
    vega = spot * growth_q * pdf_d1 * math.sqrt(years)
    decay = -spot * growth_q * pdf_d1 * vol / (2 * math.sqrt(years))
    if right is OptionRight.CALL:
        delta = growth_q * norm_cdf(d1)
        theta = decay - rate * disc_k * norm_cdf(d2) + dividend_yield * spot * growth_q * norm_cdf(d1)
        rho = years * disc_k * norm_cdf(d2)
    else:
        delta = -growth_q * norm_cdf(-d1)
        theta = decay + rate * disc_k * norm_cdf(-d2) - dividend_yield * spot * growth_q * norm_cdf(-d1)
        rho = -years * disc_k * norm_cdf(-d2)
    return Greeks(delta=delta, gamma=gamma, theta=theta / 365, vega=vega / 100, rho=rho / 100)


def implied_volatility(
    premium: float,
    spot: float,
    strike: float,
    years: float,
    right: OptionRight,
    rate: float = DEFAULT_RISK_FREE_RATE,
    dividend_yield: float = 0.0,
) -> float | None:
    """The volatility that reprices `premium`, or None when no volatility in [1e-4, 5] can.

    Newton steps kept inside a shrinking bisection bracket: fast near the money, and still
    convergent deep in or out of the money where vega vanishes and plain Newton diverges.
    """
    if years <= 0 or premium <= 0 or spot <= 0 or strike <= 0:
        return None

    def error(vol: float) -> float:
        return bs_price(spot, strike, years, vol, right, rate, dividend_yield) - premium

    low, high = IV_LOWER, IV_UPPER
    if error(low) > 0 or error(high) < 0:
        return None  # below intrinsic value or above what any sane volatility gives
    # Brenner–Subrahmanyam starting point, clipped into the bracket.
    vol = min(max(math.sqrt(2 * math.pi / years) * premium / spot, 0.05), 2.0)
    for _ in range(100):
        diff = error(vol)
        if abs(diff) < 1e-10:
            return vol
        if diff > 0:
            high = vol
        else:
            low = vol
        vega = bs_greeks(spot, strike, years, vol, right, rate, dividend_yield).vega * 100
        step_to = vol - diff / vega if vega > 1e-12 else -1.0
        vol = step_to if low < step_to < high else 0.5 * (low + high)
        if high - low < 1e-12:
            return vol
    return vol


@dataclass(frozen=True)
class Valuation:
    """A model price and its greeks, shaped as the rest of the service stores them."""

    price: Decimal
    delta: Decimal
    gamma: Decimal
    theta: Decimal
    vega: Decimal
    rho: Decimal


def greeks_to_decimal(greeks: Greeks) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    """(delta 4 dp, gamma 6 dp, theta 4 dp, vega 4 dp, rho 4 dp)."""
    return (
        money.quantize(Decimal(repr(greeks.delta)), 4),
        money.quantize(Decimal(repr(greeks.gamma)), 6),
        money.quantize(Decimal(repr(greeks.theta)), 4),
        money.quantize(Decimal(repr(greeks.vega)), 4),
        money.quantize(Decimal(repr(greeks.rho)), 4),
    )


def value_option(
    *,
    spot: Decimal,
    strike: Decimal,
    years: float,
    vol: float,
    right: OptionRight,
    rate: float = DEFAULT_RISK_FREE_RATE,
    dividend_yield: float = 0.0,
) -> Valuation:
    s, k = float(spot), float(strike)
    premium = bs_price(s, k, years, vol, right, rate, dividend_yield)
    delta, gamma, theta, vega, rho = greeks_to_decimal(
        bs_greeks(s, k, years, vol, right, rate, dividend_yield)
    )
    return Valuation(
        price=money.price(Decimal(repr(premium))), delta=delta, gamma=gamma, theta=theta, vega=vega, rho=rho
    )


def implied_vol(
    *,
    premium: Decimal,
    spot: Decimal,
    strike: Decimal,
    years: float,
    right: OptionRight,
    rate: float = DEFAULT_RISK_FREE_RATE,
    dividend_yield: float = 0.0,
) -> Decimal | None:
    """Implied volatility as a Decimal fraction (4 dp), or None when the premium is unattainable."""
    vol = implied_volatility(float(premium), float(spot), float(strike), years, right, rate, dividend_yield)
    return None if vol is None else money.quantize(Decimal(repr(vol)), 4)
