"""Small helpers every agent shares (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from optionsengine.lib.market_calendar import market_date, regular_session
from optionsengine.marketdata.types import Candle
from signals_app.engines.outcome import BEARISH, BULLISH, NEUTRAL
from signals_app.engines.snapshot import LONG


def signal_bias(direction: str) -> str:
    """The bias a signal asks for: bullish for long, bearish for short."""
    return BULLISH if direction == LONG else BEARISH


def opposite(bias: str) -> str:
    return {BULLISH: BEARISH, BEARISH: BULLISH}.get(bias, NEUTRAL)


def round_half_up(value: float) -> int:
    """Python's round() is half-to-even; stored confidences round half up like the reference."""
    return math.floor(value + 0.5)


def clamp(value: float, low: float = 0, high: float = 100) -> int:
    """An integer confidence within [low, high] (agent confidences are stored as ints 0–100)."""
    return int(max(low, min(high, round_half_up(value))))


def defined(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def percentile_rank(history: Sequence[float], minimum: int) -> float | None:
    """Share (0–100) of the earlier values strictly below the last one; None with < `minimum` values.

    The last value is ranked against what came before it, so the series' own maximum reads 100
    and its minimum 0.
    """
    if len(history) < minimum:
        return None
    *earlier, latest = history
    return 100 * sum(1 for v in earlier if v < latest) / len(earlier)


def ohlc(candles: Sequence[Candle]) -> tuple[list[float], list[float], list[float]]:
    """(highs, lows, closes) as floats for the indicator functions."""
    return [float(c.high) for c in candles], [float(c.low) for c in candles], [float(c.close) for c in candles]


def minutes_to_close(now: datetime) -> float | None:
    """Minutes until today's regular close in New York; None on a closed day or after the close."""
    session = regular_session(market_date(now))
    if session is None or now >= session[1]:
        return None
    return (session[1] - now).total_seconds() / 60
