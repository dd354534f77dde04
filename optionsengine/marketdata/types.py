"""What every market-data provider returns: frozen dataclasses, Decimal prices (4 dp).

Pure. Times are aware UTC. `provider` names who answered; `stale` is True only for a
last-known value served after every provider failed.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from optionsengine.lib import option_contracts
from optionsengine.lib.option_contracts import OptionRight

# Canonical timeframes (SPEC §3 spelling) → minutes.
TIMEFRAME_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440}


@dataclass(frozen=True)
class StockQuote:
    symbol: str
    price: Decimal  # mid when both sides are known, else the last trade
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    as_of: datetime
    provider: str
    stale: bool = False

    def as_stale(self) -> StockQuote:
        return dataclasses.replace(self, stale=True)


@dataclass(frozen=True)
class OptionContract:
    underlying: str
    expiration: date
    right: OptionRight
    strike: Decimal

    @property
    def option_symbol(self) -> str:
        return option_contracts.option_symbol(self.underlying, self.expiration, self.right, self.strike)

    @property
    def occ_symbol(self) -> str:
        return option_contracts.occ_symbol(self.underlying, self.expiration, self.right, self.strike)

    def matches(self, other: OptionContract) -> bool:
        """Same contract, whatever scale the strikes were written with ("602.00" vs 602)."""
        return (
            self.underlying == other.underlying
            and self.expiration == other.expiration
            and self.right is other.right
            and self.strike.compare(other.strike) == 0
        )


@dataclass(frozen=True)
class OptionGreeks:
    delta: Decimal
    gamma: Decimal
    theta: Decimal  # per calendar day
    vega: Decimal  # per vol point


@dataclass(frozen=True)
class OptionQuote:
    contract: OptionContract
    bid: Decimal | None
    ask: Decimal | None
    mid: Decimal  # (bid + ask) / 2 when both are known, else last
    last: Decimal | None
    iv: Decimal | None  # annual fraction, 0.2 = 20 %
    greeks: OptionGreeks | None
    open_interest: int | None
    volume: int | None
    underlying_price: Decimal | None
    as_of: datetime
    provider: str
    stale: bool = False

    def as_stale(self) -> OptionQuote:
        return dataclasses.replace(self, stale=True)


@dataclass(frozen=True)
class OptionChain:
    underlying: str
    expiration: date
    underlying_price: Decimal | None
    quotes: tuple[OptionQuote, ...]
    as_of: datetime
    provider: str

    def strikes(self, right: OptionRight) -> list[Decimal]:
        return sorted({q.contract.strike for q in self.quotes if q.contract.right is right})

    def find(self, contract: OptionContract) -> OptionQuote | None:
        return next((q for q in self.quotes if q.contract.matches(contract)), None)


@dataclass(frozen=True)
class Candle:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


@dataclass(frozen=True)
class CandleSeries:
    symbol: str
    timeframe: str
    candles: tuple[Candle, ...]  # oldest first
    provider: str


class DealerPosition(enum.StrEnum):
    LONG_GAMMA = "long_gamma"
    SHORT_GAMMA = "short_gamma"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class GexSnapshot:
    symbol: str
    spot: Decimal
    net_gex: Decimal  # dollars of dealer delta change per 1 % move in the underlying
    call_gex: Decimal
    put_gex: Decimal
    zero_gamma_level: Decimal | None
    dealer_position: DealerPosition
    as_of: datetime
    provider: str


@dataclass(frozen=True)
class FlowEntry:
    contract: OptionContract
    side: str  # "buy" (lifted the ask) or "sell" (hit the bid)
    size: int  # contracts
    price: Decimal
    premium: Decimal  # price × size × 100
    at: datetime


@dataclass(frozen=True)
class OptionsFlow:
    symbol: str
    entries: tuple[FlowEntry, ...]
    as_of: datetime
    provider: str

    @property
    def net_premium(self) -> Decimal:
        """Bought calls and sold puts count bullish (+), the opposite bearish (−)."""
        total = Decimal(0)
        for entry in self.entries:
            bullish = (entry.contract.right is OptionRight.CALL) == (entry.side == "buy")
            total += entry.premium if bullish else -entry.premium
        return total


@dataclass(frozen=True)
class IvRank:
    symbol: str
    iv_rank: Decimal  # 0–100: where current IV sits in its one-year range
    iv: Decimal | None  # current at-the-money IV, annual fraction
    as_of: datetime
    provider: str
