"""The frozen inputs every orchestrator gate and engine decides from (SPEC §6).

The orchestrator service loads these from the database and the market-data layer (outside any
transaction), then hands them to pure functions together with `now`. Nothing here reads the
clock, settings or the ORM, so a decision can be replayed from a snapshot exactly.

Units: prices are USD per share (Decimal); P&L in USD (Decimal); indicator values are floats
(statistics of prices, never stored as money); percentages are 0–100.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from optionsengine.marketdata.types import Candle, GexSnapshot, OptionChain, OptionsFlow

LONG = "long"
SHORT = "short"

# Setup types (from the timeframe in minutes: ≤ 15m SCALP, ≤ 4h SWING, ≤ 1w POSITION, else LEAPS).
SCALP = "SCALP"
SWING = "SWING"
POSITION = "POSITION"
LEAPS = "LEAPS"
SETUP_TYPES = (SCALP, SWING, POSITION, LEAPS)

# Timeframes Engine B's multi-timeframe trend reads (canonical spelling, SPEC §3).
MTF_TIMEFRAMES = ("5m", "15m", "1h", "4h", "1d")


@dataclass(frozen=True)
class SignalFacts:
    """What the alert said, normalized at ingestion."""

    signal_id: str
    symbol: str
    direction: str  # "long" | "short"
    timeframe: str  # canonical: 5m, 1h, 1d, 1w, 1mo
    timeframe_minutes: int
    timestamp: datetime  # alert time, aware UTC
    signal_hash: str
    is_test: bool
    payload: Mapping  # raw payload (secret removed): confidence, pattern, score …


@dataclass(frozen=True)
class OpenPosition:
    """One open/closing position as the portfolio gates see it."""

    symbol: str
    type: str  # "call" | "put"
    quantity: int  # open contracts
    entry_price: Decimal
    current_price: Decimal | None
    unrealized_pnl: Decimal | None
    expiration: date
    entry_timestamp: datetime
    greeks_at_entry: Mapping | None  # {"delta", "gamma", "theta", "vega"} per contract-share
    is_test: bool = False

    @property
    def direction(self) -> str:
        return LONG if self.type == "call" else SHORT


@dataclass(frozen=True)
class RiskLimits:
    """The newest enabled `risk_limits` row (0 = no limit, never "reject everything")."""

    max_position_size: int = 10
    max_positions_per_symbol: int = 3
    max_open_positions: int = 5
    max_daily_loss: Decimal = Decimal("1000")
    max_daily_trades: int = 0


@dataclass(frozen=True)
class Portfolio:
    positions: tuple[OpenPosition, ...] = ()  # open + closing, test positions excluded
    daily_pnl: Decimal = Decimal(0)  # New York trading day: realized today + unrealized of open
    limits: RiskLimits = field(default_factory=RiskLimits)
    breaker_frozen_until: datetime | None = None  # drawdown breaker (circuit_breaker_state)
    # Symbols of approved entries not yet filled (no order yet, or its order pending): they will
    # become positions, so position caps count them — a burst of approvals cannot overshoot.
    pending_entries: tuple[str, ...] = ()

    def count_for(self, symbol: str) -> int:
        """Open positions in `symbol` plus its approved entries on their way to a fill."""
        return sum(1 for p in self.positions if p.symbol == symbol) + self.pending_entries.count(symbol)

    @property
    def committed_count(self) -> int:
        return len(self.positions) + len(self.pending_entries)

    def with_pending_entry(self, symbol: str) -> Portfolio:
        return dataclasses.replace(self, pending_entries=(*self.pending_entries, symbol))


@dataclass(frozen=True)
class Indicators:
    """Latest indicator values of the signal's timeframe; None where there are too few candles."""

    ema8: float | None = None
    ema13: float | None = None
    ema21: float | None = None
    ema48: float | None = None
    ema200: float | None = None
    atr14: float | None = None
    rsi14: float | None = None
    macd: float | None = None
    macd_signal: float | None = None
    macd_hist: float | None = None
    macd_hist_prev: float | None = None
    bb_upper: float | None = None
    bb_middle: float | None = None
    bb_lower: float | None = None
    kc_upper: float | None = None
    kc_middle: float | None = None
    kc_lower: float | None = None
    ttm_squeeze_on: bool | None = None
    ttm_fired: bool | None = None  # squeeze was on the previous bar and is off now
    ttm_momentum: float | None = None
    adx14: float | None = None
    plus_di14: float | None = None
    minus_di14: float | None = None
    vwap: float | None = None  # today's session VWAP (New York), None outside a session
    volume_ratio: float | None = None  # last volume / mean of the 20 before it

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Confluence:
    """Flow × gamma agreement score (reference orchestrator §2.6) and its sizing tier."""

    score: int | None  # 0–100; None when neither GEX nor flow was available (gate skipped)
    tier: str  # "full" | "half" | "quarter" | "none" | "unknown"
    multiplier: Decimal  # 1, 0.5, 0.25, 0 (unknown → 0.5)
    passes: bool
    factors: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class MarketSnapshot:
    """Market data fetched for one signal (outside any transaction)."""

    price: Decimal  # underlying, USD
    price_stale: bool
    candles: tuple[Candle, ...]  # signal timeframe, oldest first (up to 200)
    mtf_candles: Mapping[str, tuple[Candle, ...]]  # MTF_TIMEFRAMES → candles, oldest first
    gex: GexSnapshot | None  # None: unavailable (treated as neutral, never guessed)
    flow: OptionsFlow | None
    iv_rank: Decimal | None  # 0–100; None = unknown → the IV band rule is skipped
    chain: OptionChain | None  # the chain for the target expiration; None = unavailable
    indicators: Indicators = field(default_factory=Indicators)
    bid: Decimal | None = None  # underlying quote sides, when the provider gives them
    ask: Decimal | None = None


@dataclass(frozen=True)
class DecisionInput:
    """Everything one decision needs. `bias_state` is the camelCase UnifiedBiasState or None."""

    signal: SignalFacts
    market: MarketSnapshot
    portfolio: Portfolio
    bias_state: Mapping | None
    setup_type: str
    confluence: Confluence
    now: datetime
