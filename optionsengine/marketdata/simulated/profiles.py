"""Reference prices, volatilities and strike spacing for the simulated market (pure).

Figures are round numbers near where these underlyings traded in 2025–26; they set the level a
symbol's path wanders around until an observed price re-anchors it. Unknown symbols get a
stable pseudo-random price between 20 and 320 and a 40 % volatility, so any ticker a strategy
sends can still be traded offline.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from optionsengine.lib.option_contracts import default_strike_increment

UNKNOWN_SYMBOL_VOLATILITY = 0.40


@dataclass(frozen=True)
class SymbolProfile:
    symbol: str
    reference_price: Decimal
    volatility: float  # annualised, at the money
    strike_increment: Decimal
    daily_volume: int  # shares per regular session
    penny_pilot: bool  # options quoted in pennies at every price (else 0.05 above 3.00)


def _p(symbol: str, ref: str, vol: float, inc: str, volume: int, penny: bool = True) -> SymbolProfile:
    return SymbolProfile(symbol, Decimal(ref), vol, Decimal(inc), volume, penny)


KNOWN_PROFILES: dict[str, SymbolProfile] = {
    p.symbol: p
    for p in (
        _p("SPY", "600", 0.16, "1", 70_000_000),
        _p("QQQ", "520", 0.21, "1", 45_000_000),
        _p("IWM", "220", 0.24, "1", 30_000_000),
        _p("DIA", "430", 0.15, "1", 3_500_000),
        _p("XLK", "240", 0.22, "1", 6_000_000),
        _p("XLF", "50", 0.18, "0.5", 40_000_000),
        _p("GLD", "300", 0.15, "1", 9_000_000),
        _p("TLT", "90", 0.14, "0.5", 35_000_000),
        _p("AAPL", "230", 0.26, "2.5", 55_000_000),
        _p("MSFT", "450", 0.24, "2.5", 20_000_000),
        _p("NVDA", "180", 0.45, "1", 200_000_000),
        _p("TSLA", "350", 0.55, "2.5", 100_000_000),
        _p("AMZN", "220", 0.30, "2.5", 40_000_000),
        _p("META", "650", 0.33, "5", 15_000_000),
        _p("GOOGL", "190", 0.28, "2.5", 30_000_000),
        _p("GOOG", "190", 0.28, "2.5", 20_000_000),
        _p("AMD", "160", 0.48, "1", 50_000_000),
        _p("NFLX", "1200", 0.35, "5", 4_000_000),
        _p("PLTR", "150", 0.60, "1", 60_000_000),
    )
}


@lru_cache(maxsize=512)
def profile_for(symbol: str) -> SymbolProfile:
    known = KNOWN_PROFILES.get(symbol)
    if known is not None:
        return known
    # A stable hash of the name (not Python's salted hash()) so every process agrees.
    fraction = int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:4], "big") / 2**32
    reference = Decimal(str(round(20 * 16**fraction, 2)))
    return SymbolProfile(
        symbol=symbol,
        reference_price=reference,
        volatility=UNKNOWN_SYMBOL_VOLATILITY,
        strike_increment=default_strike_increment(reference),
        daily_volume=2_000_000,
        penny_pilot=False,
    )
