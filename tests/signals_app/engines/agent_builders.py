"""Builders for Engine B tests: candles, GEX, flow and a DecisionInput with keyword overrides."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from optionsengine.lib.market_calendar import MARKET_TZ
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.types import (
    Candle,
    DealerPosition,
    FlowEntry,
    GexSnapshot,
    OptionContract,
    OptionsFlow,
)
from signals_app.engines.outcome import ContractChoice
from signals_app.engines.snapshot import (
    LONG,
    SCALP,
    Confluence,
    DecisionInput,
    Indicators,
    MarketSnapshot,
    Portfolio,
    SignalFacts,
)

FIVE_MINUTES = timedelta(minutes=5)


def ny(year: int, month: int, day: int, hour: int = 10, minute: int = 30, second: int = 0) -> datetime:
    """A New York wall-clock moment as aware UTC (what every snapshot carries)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=MARKET_TZ).astimezone(UTC)


# Friday 2026-03-13 10:30 New York (EDT): regular hours.
RTH_NOW = ny(2026, 3, 13)


def candle(start: datetime, high, low, close=None, open_=None, volume: int = 1000) -> Candle:
    """One bar; close defaults to the middle of the range, open to the close."""
    high, low = Decimal(str(high)), Decimal(str(low))
    close = (high + low) / 2 if close is None else Decimal(str(close))
    return Candle(start, Decimal(str(open_)) if open_ is not None else close, high, low, close, volume)


def bars(*ranges: tuple, start: datetime = RTH_NOW, step: timedelta = FIVE_MINUTES) -> tuple[Candle, ...]:
    """Consecutive bars from (high, low) or (high, low, close) tuples, oldest first."""
    return tuple(candle(start + i * step, *r) for i, r in enumerate(ranges))


def flat_then(last_close, count: int = 30, level=100) -> tuple[Candle, ...]:
    """`count − 1` bars closing at `level`, then one closing at `last_close` (a clean trend probe)."""
    closes = [level] * (count - 1) + [last_close]
    return tuple(candle(RTH_NOW + i * FIVE_MINUTES, max(c, level), min(c, level), c) for i, c in enumerate(closes))


def ranging(
    count: int = 60,
    first_half: float = 0.1,
    last_half: float = 1.3,
    drift: float = 0.0,
    swing: tuple[float, float] | None = None,
    price: float = 100.0,
) -> tuple[Candle, ...]:
    """Bars whose half-range moves linearly from `first_half` to `last_half` (a widening or
    narrowing market) with optional drift per bar. Closes alternate above and below the middle by
    `swing` (moving linearly from its first to its second value), by default half the half-range."""
    out = []
    for i in range(count):
        share = i / (count - 1)
        mid = price + drift * i
        half = first_half + (last_half - first_half) * share
        offset = half / 2 if swing is None else swing[0] + (swing[1] - swing[0]) * share
        close = mid + (offset if i % 2 else -offset)
        out.append(candle(RTH_NOW + i * FIVE_MINUTES, round(mid + half, 4), round(mid - half, 4), round(close, 4)))
    return tuple(out)


def gex(net="1000000", position: DealerPosition = DealerPosition.NEUTRAL, zero_gamma=None, spot="600") -> GexSnapshot:
    return GexSnapshot(
        symbol="SPY",
        spot=Decimal(spot),
        net_gex=Decimal(net),
        call_gex=Decimal(0),
        put_gex=Decimal(0),
        zero_gamma_level=None if zero_gamma is None else Decimal(str(zero_gamma)),
        dealer_position=position,
        as_of=RTH_NOW,
        provider="test",
    )


def flow(calls: int = 0, puts: int = 0) -> OptionsFlow:
    """One bought call entry of `calls` contracts and one bought put entry of `puts` contracts."""
    entries = []
    for right, size in ((OptionRight.CALL, calls), (OptionRight.PUT, puts)):
        if size:
            contract = OptionContract("SPY", RTH_NOW.date(), right, Decimal(600))
            entries.append(FlowEntry(contract, "buy", size, Decimal("1.00"), Decimal(100 * size), RTH_NOW))
    return OptionsFlow("SPY", tuple(entries), RTH_NOW, "test")


def contract_choice(spread_pct="2.00", open_interest=5000, volume=1200) -> ContractChoice:
    return ContractChoice(
        right="call",
        strike=Decimal(600),
        expiration=RTH_NOW.date() + timedelta(days=7),
        entry_price=Decimal("4.2500"),
        dte=7,
        rationale={"spread_pct": spread_pct, "open_interest": open_interest, "volume": volume},
    )


def decision_input(
    *,
    direction: str = LONG,
    now: datetime = RTH_NOW,
    is_test: bool = False,
    price="600",
    candles: tuple[Candle, ...] = (),
    mtf_candles: dict | None = None,
    indicators: Indicators | None = None,
    bias_state: dict | None = None,
    **market,
) -> DecisionInput:
    """A DecisionInput with nothing known but the price; `market` overrides MarketSnapshot fields."""
    signal = SignalFacts(
        signal_id="sig-1",
        symbol="SPY",
        direction=direction,
        timeframe="5m",
        timeframe_minutes=5,
        timestamp=now,
        signal_hash="hash",
        is_test=is_test,
        payload={},
    )
    snapshot = MarketSnapshot(
        price=Decimal(str(price)),
        price_stale=False,
        candles=candles,
        mtf_candles=mtf_candles or {},
        gex=None,
        flow=None,
        iv_rank=None,
        chain=None,
        indicators=indicators or Indicators(),
    )
    return DecisionInput(
        signal=signal,
        market=dataclasses.replace(snapshot, **market),
        portfolio=Portfolio(),
        bias_state=bias_state,
        setup_type=SCALP,
        confluence=Confluence(score=None, tier="unknown", multiplier=Decimal("0.5"), passes=True),
        now=now,
    )
