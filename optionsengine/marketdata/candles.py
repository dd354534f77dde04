"""Aggregating 1-minute candles into longer timeframes (pure).

Intraday buckets are aligned to the 09:30 New York open (a 1h bar runs 09:30–10:30, the last
one 15:30–16:00), as TradingView and the exchanges draw US equity bars; `1d` is one bar per New
York date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from optionsengine.lib import market_calendar
from optionsengine.lib.market_calendar import MARKET_TZ
from optionsengine.marketdata.types import TIMEFRAME_MINUTES, Candle


def timeframe_minutes(timeframe: str) -> int:
    try:
        return TIMEFRAME_MINUTES[timeframe]
    except KeyError:
        raise ValueError(f"unsupported timeframe {timeframe!r}; use one of {sorted(TIMEFRAME_MINUTES)}") from None


def lookback(minutes_per_bar: int, count: int) -> timedelta:
    """Calendar time that surely holds `count` bars: a session fills about a quarter of a day
    (extended hours included), and weekends and holidays need slack."""
    if minutes_per_bar >= 1440:
        return timedelta(days=count * 7 // 4 + 10)
    return timedelta(minutes=minutes_per_bar * count * 4) + timedelta(days=4)


def bucket_start(start: datetime, timeframe: str) -> datetime:
    """The start of the `timeframe` bar that a 1-minute bar starting at `start` belongs to."""
    minutes = timeframe_minutes(timeframe)
    local = start.astimezone(MARKET_TZ)
    if minutes >= 1440:
        session = market_calendar.regular_session(local.date())
        if session is not None:
            return session[0]
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(start.tzinfo)
    opens_at = local.replace(hour=9, minute=30, second=0, microsecond=0)
    offset = int((local - opens_at).total_seconds() // 60)
    return (opens_at + timedelta(minutes=(offset // minutes) * minutes)).astimezone(start.tzinfo)


def aggregate(candles: Iterable[Candle], timeframe: str) -> list[Candle]:
    """Merge consecutive 1-minute candles (oldest first) into `timeframe` bars."""
    bars: list[Candle] = []
    for candle in candles:
        start = bucket_start(candle.start, timeframe)
        if bars and bars[-1].start == start:
            last = bars[-1]
            bars[-1] = Candle(
                start=start,
                open=last.open,
                high=max(last.high, candle.high),
                low=min(last.low, candle.low),
                close=candle.close,
                volume=last.volume + candle.volume,
            )
        else:
            bars.append(
                Candle(start, candle.open, candle.high, candle.low, candle.close, candle.volume)
            )
    return bars
