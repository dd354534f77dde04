"""Simulated candles: 1-minute bars of the regular session, aggregated in place (pure).

Each minute's open and close are the path at the minute's edges, wicks add a little intra-minute
range, and volume follows the usual U shape (heavy at the open and close). Longer timeframes
are built from those minutes per trading day without materialising 1-minute Candle objects,
which keeps 200 daily bars (78 000 minutes) fast enough for enrichment.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta
from decimal import Decimal

from optionsengine.lib import market_calendar
from optionsengine.marketdata.candles import timeframe_minutes
from optionsengine.marketdata.simulated.path import LogPath, per_unit_sigma, session_start_units
from optionsengine.marketdata.simulated.profiles import SymbolProfile
from optionsengine.marketdata.types import Candle

_SIXTEEN_BITS = 0xFFFF
# Enough history for 200 daily bars plus weekends and holidays, with room to spare.
MAX_LOOKBACK_DAYS = 400


def _price(value: float) -> Decimal:
    return Decimal(f"{round(value, 2):.4f}")


@functools.lru_cache(maxsize=1024)
def _session_minutes(path: LogPath, scale: float, units0: int, minutes: int) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """Minute edges (price at each minute boundary) and per-minute draws of one session.

    Shared by every bar size built from the same session, so a signal's six candle series cost
    one path evaluation per trading day instead of one per series. One hash per minute feeds three
    16-bit draws: upper wick, lower wick, volume.
    """
    edges = tuple(scale * math.exp(x) for x in path.run(units0, minutes + 1))
    return edges, tuple(path.draws(units0, minutes))


def _day_bars(
    *, path: LogPath, scale: float, profile: SymbolProfile, opens_at: datetime, units0: int,
    minutes: int, bucket: int,
) -> list[Candle]:
    wick = per_unit_sigma(profile.volatility) * 0.6 / _SIXTEEN_BITS
    per_minute_volume = profile.daily_volume / 390
    edges, draws = _session_minutes(path, scale, units0, minutes)
    bars: list[Candle] = []
    for first in range(0, minutes, bucket):
        last = min(first + bucket, minutes)
        high = low = edges[first]
        volume = 0
        for i in range(first, last):
            draw = draws[i]
            top = max(edges[i], edges[i + 1])
            bottom = min(edges[i], edges[i + 1])
            high = max(high, top * (1 + wick * (draw & _SIXTEEN_BITS)))
            low = min(low, bottom * (1 - wick * ((draw >> 16) & _SIXTEEN_BITS)))
            shape = 0.7 + 5.2 * (i / 389 - 0.5) ** 2
            volume += int(per_minute_volume * shape * (0.5 + ((draw >> 32) & _SIXTEEN_BITS) / _SIXTEEN_BITS))
        bars.append(
            Candle(
                start=opens_at + timedelta(minutes=first),
                open=_price(edges[first]),
                high=_price(high),
                low=_price(low),
                close=_price(edges[last]),
                volume=volume,
            )
        )
    return bars


# A finished session's bars never change, so they are computed once per process (bounded): a
# moving clock then only recomputes today's partial session instead of 30 days of minutes.
_finished_day_bars = functools.lru_cache(maxsize=2048)(_day_bars)


def simulated_candles(
    *, path: LogPath, scale: float, profile: SymbolProfile, timeframe: str, count: int, now: datetime
) -> tuple[Candle, ...]:
    """The last `count` bars up to `now` (the bar in progress included), oldest first."""
    minutes_per_bar = timeframe_minutes(timeframe)
    day = market_calendar.market_date(now)
    collected: list[list[Candle]] = []
    total = 0
    for _ in range(MAX_LOOKBACK_DAYS):
        if total >= count:
            break
        session = market_calendar.regular_session(day)
        if session is not None and session[0] < now:
            opens_at, closes_at = session
            session_minutes = int((closes_at - opens_at).total_seconds() // 60)
            elapsed = min(session_minutes, int((now - opens_at).total_seconds() // 60))
            if elapsed > 0:
                compute = _finished_day_bars if elapsed == session_minutes else _day_bars
                bars = compute(
                    path=path, scale=scale, profile=profile, opens_at=opens_at,
                    units0=int(session_start_units(day)), minutes=elapsed,
                    bucket=min(minutes_per_bar, session_minutes),
                )
                collected.append(bars)
                total += len(bars)
        day -= timedelta(days=1)
    ordered = [bar for bars in reversed(collected) for bar in bars]
    return tuple(ordered[-count:]) if count > 0 else ()
