"""Simulated option chains: Black–Scholes with a volatility smile, spreads, OI and volume (pure).

The smile is quadratic in standardised moneyness z = ln(K/F) / (σ√T) with the equity skew
(puts richer than calls); short-dated expiries carry a small event premium. Spreads widen with
|z| and are rounded outward to the option tick. Open interest peaks at the money and on round
strikes and monthlies; volume is a deterministic share of it per New York trading day.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

from optionsengine.lib import money, option_contracts
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.lib.option_math import DEFAULT_RISK_FREE_RATE, bs_greeks, bs_price
from optionsengine.marketdata.simulated.path import mix64, unit
from optionsengine.marketdata.simulated.profiles import SymbolProfile
from optionsengine.marketdata.types import OptionChain, OptionContract, OptionGreeks, OptionQuote

MAX_STRIKES_PER_SIDE = 40
_PENNY = 0.01
_NICKEL = 0.05


def smile_vol(atm_vol: float, z: float) -> float:
    return atm_vol * min(max(1.0 - 0.07 * z + 0.02 * z * z, 0.5), 2.5)


def term_vol(base_vol: float, years: float) -> float:
    """Front-week premium: +12 % at expiry, fading over a few weeks."""
    return base_vol * (1.0 + 0.12 * math.exp(-years * 365 / 7))


def listed_strikes(spot: float, atm_vol: float, years: float, increment: Decimal) -> list[Decimal]:
    """Strikes at the symbol's increment covering ±3.5 σ√T (at least ±4 %), capped per side."""
    step = float(increment)
    half_range = spot * max(0.04, 3.5 * atm_vol * math.sqrt(years))
    centre = round(spot / step)
    low = max(math.ceil((spot - half_range) / step), centre - MAX_STRIKES_PER_SIDE, 1)
    high = min(math.floor((spot + half_range) / step), centre + MAX_STRIKES_PER_SIDE)
    return [increment * n for n in range(low, high + 1)]


def _tick(profile: SymbolProfile, premium: float) -> float:
    return _PENNY if profile.penny_pilot or premium < 3.0 else _NICKEL


def _dec(value: float, places: int) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def build_chain(
    *,
    profile: SymbolProfile,
    key: int,
    spot: float,
    now: datetime,
    expiration: date,
    vol_multiplier: float,
    provider: str,
    only_strike: Decimal | None = None,
) -> OptionChain:
    """Every listed contract of one expiry (or just `only_strike`'s pair, when it is listed).

    `expiration` must still be live at `now`.
    """
    years = option_contracts.years_to_expiry(now, expiration)
    atm_vol = term_vol(profile.volatility * vol_multiplier, years)
    forward = spot * math.exp(DEFAULT_RISK_FREE_RATE * years)
    is_monthly = expiration == option_contracts.monthly_expiration(expiration.year, expiration.month)
    day_salt = now.date().toordinal() << 20
    round_step = profile.strike_increment * 5
    quotes: list[OptionQuote] = []
    strikes = listed_strikes(spot, atm_vol, years, profile.strike_increment)
    if only_strike is not None:
        strikes = [k for k in strikes if k == only_strike]
    for strike in strikes:
        k = float(strike)
        z = math.log(k / forward) / (atm_vol * math.sqrt(years))
        vol = smile_vol(atm_vol, z)
        strike_salt = int(strike * 100) << 2
        oi_base = profile.daily_volume / 2000 * math.exp(-z * z / 4)
        oi_base *= (1.5 if strike % round_step == 0 else 1.0) * (2.0 if is_monthly else 1.0)
        for right in (OptionRight.CALL, OptionRight.PUT):
            salt = key ^ mix64(strike_salt | int(right is OptionRight.PUT) | expiration.toordinal() << 40)
            theo = bs_price(spot, k, years, vol, right)
            greeks = bs_greeks(spot, k, years, vol, right)
            tick = _tick(profile, theo)
            width = 0.004 if profile.penny_pilot else 0.01
            half = max(tick * (1 + abs(z)), theo * width * (1 + abs(z)))
            bid = max(math.floor((theo - half) / tick) * tick, 0.0)
            ask = max(math.ceil((theo + half) / tick) * tick, bid + tick)
            bid_d, ask_d = _dec(bid, 2), _dec(ask, 2)
            open_interest = int(oi_base * (0.4 + 1.2 * unit(salt)))
            volume = int(open_interest * (0.05 + 0.5 * unit(salt ^ day_salt)))
            quotes.append(
                OptionQuote(
                    contract=OptionContract(profile.symbol, expiration, right, strike),
                    bid=money.price(bid_d),
                    ask=money.price(ask_d),
                    mid=money.price((bid_d + ask_d) / 2),
                    last=money.price(_dec(max(round(theo / tick) * tick, tick), 2)),
                    iv=_dec(vol, 4),
                    greeks=OptionGreeks(
                        delta=_dec(greeks.delta, 4),
                        gamma=_dec(greeks.gamma, 6),
                        theta=_dec(greeks.theta, 4),
                        vega=_dec(greeks.vega, 4),
                    ),
                    open_interest=open_interest,
                    volume=volume,
                    underlying_price=money.price(_dec(spot, 2)),
                    as_of=now,
                    provider=provider,
                )
            )
    return OptionChain(
        underlying=profile.symbol,
        expiration=expiration,
        underlying_price=money.price(_dec(spot, 2)),
        quotes=tuple(quotes),
        as_of=now,
        provider=provider,
    )
