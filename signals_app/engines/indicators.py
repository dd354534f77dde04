"""Technical indicators for the orchestrator and the technical/regime agents (reference §2.5, §2.8, §5.9).

Pure. Series functions take floats, oldest first, and return a list aligned to the input: element i
is the value at bar i, None until defined. Indicator values are floats on purpose: statistics of
prices that feed votes and thresholds, never money; `compute_indicators` converts Decimal candles once.

Conventions where the reference is silent: an EMA is seeded with the SMA of its first `period`
values and skips a leading None prefix (so EMAs chain: MACD signal = EMA of the MACD line). Wilder
smoothing (RSI, ATR, ADX) is the same recursion with alpha = 1/period; price changes and true ranges
need the previous close, so RSI, ATR and ±DI start at bar `period`, ADX at bar 2·period − 1.
Bollinger bands use the population standard deviation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from optionsengine.lib import market_calendar
from optionsengine.marketdata.types import Candle
from signals_app.engines.snapshot import Indicators

Series = list[float | None]

SQUEEZE_PERIOD = 20  # the standard TTM Squeeze: Bollinger(20, 2) inside Keltner(20, 1.5)
SQUEEZE_BB_K, SQUEEZE_KC_MULT = 2.0, 1.5  # Bollinger standard deviations, Keltner ATRs
VOLUME_LOOKBACK = 20  # bars averaged for the volume ratio (reference §5.9: "prior-20 avg")


def _first_defined(values: Sequence[float | None]) -> int:
    return next((i for i, v in enumerate(values) if v is not None), len(values))


def _check(period: int, minimum: int = 1) -> None:
    if period < minimum:
        raise ValueError(f"period/lookback must be at least {minimum}, got {period}")


def _smooth(values: Sequence[float | None], period: int, *, wilder: bool) -> Series:
    """m += alpha·(x − m), alpha = 1/period (Wilder) or 2/(period + 1) (EMA), seeded with a plain mean."""
    _check(period)
    alpha = 1 / period if wilder else 2 / (period + 1)
    start = _first_defined(values)
    if len(values) - start < period:
        return [None] * len(values)
    prev = sum(values[start : start + period]) / period
    out: Series = [None] * (start + period - 1) + [prev]
    append = out.append  # hot loop: 200 candles × ~15 series per signal
    for value in values[start + period :]:
        prev += alpha * (value - prev)
        append(prev)
    return out


def sma(values: Sequence[float | None], period: int) -> Series:
    """Simple moving average over the last `period` values (a leading None prefix is skipped)."""
    _check(period)
    start = _first_defined(values)
    if len(values) - start < period:
        return [None] * len(values)
    total = sum(values[start : start + period])
    out: Series = [None] * (start + period - 1) + [total / period]
    for new, old in zip(values[start + period :], values[start:]):
        total += new - old  # running sum: O(n), drift of a few ulps
        out.append(total / period)
    return out


def ema(values: Sequence[float | None], period: int) -> Series:
    """Exponential moving average, alpha = 2/(period + 1), seeded with the SMA of the first `period`."""
    return _smooth(values, period, wilder=False)


def _true_range(highs: Sequence[float], lows: Sequence[float], closes: Sequence[float]) -> Series:
    """Bar range widened to reach the previous close (gaps count); None at bar 0, which has none."""
    if not closes:
        return []
    return [None] + [
        (high if high > prev else prev) - (low if low < prev else prev)
        for high, low, prev in zip(highs[1:], lows[1:], closes)
    ]


def atr(highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int = 14) -> Series:
    """Average true range (Wilder), in price units; first value at bar `period`."""
    return _smooth(_true_range(highs, lows, closes), period, wilder=True)


def rsi(closes: Sequence[float], period: int = 14) -> Series:
    """Relative strength index 0–100 (Wilder); first value at bar `period`.

    Only gains reads 100; no movement at all reads 50 (neutral) rather than dividing 0 by 0.
    """
    if not closes:
        return []
    changes = [new - old for old, new in zip(closes, closes[1:])]
    gains = _smooth([None] + [c if c > 0 else 0.0 for c in changes], period, wilder=True)
    losses = _smooth([None] + [-c if c < 0 else 0.0 for c in changes], period, wilder=True)
    return [
        None if gain is None else (100.0 if gain > 0 else 50.0) if loss == 0 else 100 - 100 / (1 + gain / loss)
        for gain, loss in zip(gains, losses)
    ]


def macd(closes: Sequence[float], fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[Series, Series, Series]:
    """(MACD line = EMA fast − EMA slow, signal = EMA of the line, histogram = line − signal)."""
    line = [None if f is None or s is None else f - s for f, s in zip(ema(closes, fast), ema(closes, slow))]
    signal_line = ema(line, signal)
    hist = [None if s is None else v - s for v, s in zip(line, signal_line)]
    return line, signal_line, hist


def bollinger(closes: Sequence[float], period: int = 20, k: float = 2.0) -> tuple[Series, Series, Series]:
    """(upper, middle, lower): SMA ± k population standard deviations of the last `period` closes."""
    _check(period)
    n = len(closes)
    upper, middle, lower = ([None] * n for _ in range(3))
    if n < period:
        return upper, middle, lower
    mean = sum(closes[:period]) / period
    m2 = sum((c - mean) * (c - mean) for c in closes[:period])  # Σ squared deviations in the window
    for i in range(period - 1, n):
        if i >= period:
            # Rolling Welford update: Σx² − n·mean² would cancel catastrophically at prices in the 100s.
            old, new = closes[i - period], closes[i]
            prev_mean, mean = mean, mean + (new - old) / period
            m2 += (new - old) * (new - mean + old - prev_mean)
        width = k * math.sqrt(max(m2, 0.0) / period)
        upper[i], middle[i], lower[i] = mean + width, mean, mean - width
    return upper, middle, lower


def keltner(
    highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int = 20, atr_mult: float = 1.5
) -> tuple[Series, Series, Series]:
    """(upper, middle, lower): EMA(period) of closes ± atr_mult · ATR(period); first value at bar `period`."""
    middle = ema(closes, period)
    ranges = atr(highs, lows, closes, period)
    return (
        [None if a is None else m + atr_mult * a for m, a in zip(middle, ranges)],
        [None if a is None else m for m, a in zip(middle, ranges)],
        [None if a is None else m - atr_mult * a for m, a in zip(middle, ranges)],
    )


def _linreg_end(values: Series, period: int) -> Series:
    """Least-squares line through each full window of `period` values, evaluated at its last point."""
    start = _first_defined(values)
    if len(values) - start < period:
        return [None] * len(values)
    x_mean = (period - 1) / 2
    sxx = period * (period * period - 1) / 12  # Σ (x − x̄)² for x = 0 … period − 1
    sy = sum(values[start : start + period])
    sxy = sum(x * y for x, y in enumerate(values[start : start + period]))
    out: Series = [None] * (start + period - 1)
    for i in range(start + period - 1, len(values)):
        if i >= start + period:
            # Slide by one bar: every weight drops by 1, the oldest leaves, the newest gets period − 1.
            old, new = values[i - period], values[i]
            sxy += (period - 1) * new - (sy - old)
            sy += new - old
        slope = (sxy - x_mean * sy) / sxx
        out.append(sy / period + slope * x_mean)  # the last x, period − 1, is x̄ + x̄
    return out


def _ttm_momentum(highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int) -> Series:
    _check(period, minimum=2)  # a regression line needs two points
    mean_close = sma(closes, period)
    delta: Series = [None] * len(closes)
    for i in range(period - 1, len(closes)):
        donchian_mid = (max(highs[i - period + 1 : i + 1]) + min(lows[i - period + 1 : i + 1])) / 2
        delta[i] = closes[i] - (donchian_mid + mean_close[i]) / 2
    return _linreg_end(delta, period)


def _inside(*bands: float | None) -> bool | None:
    """Bollinger (upper, lower) strictly inside Keltner (upper, lower); None until all four exist."""
    if any(band is None for band in bands):
        return None
    bb_upper, bb_lower, kc_upper, kc_lower = bands
    return bb_upper < kc_upper and bb_lower > kc_lower


def ttm_squeeze(
    highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int = 20
) -> tuple[list[bool | None], Series]:
    """(squeeze_on, momentum), John Carter's TTM Squeeze.

    Squeeze on: Bollinger(period, 2) lies strictly inside Keltner(period, 1.5), i.e. volatility is
    compressed; from bar `period`. Momentum: the linear-regression value over `period` bars of
    close − mean(mean(highest high, lowest low), SMA close), in price units; from bar 2·period − 2.
    """
    momentum = _ttm_momentum(highs, lows, closes, period)
    bb_upper, _, bb_lower = bollinger(closes, period, SQUEEZE_BB_K)
    kc_upper, _, kc_lower = keltner(highs, lows, closes, period, SQUEEZE_KC_MULT)
    return list(map(_inside, bb_upper, bb_lower, kc_upper, kc_lower)), momentum


def adx(
    highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int = 14
) -> tuple[Series, Series, Series]:
    """(ADX, +DI, −DI), 0–100, Wilder. ±DI start at bar `period`, ADX at bar 2·period − 1."""
    if not closes:
        return [], [], []
    ups = [new - old for old, new in zip(highs, highs[1:])]
    downs = [old - new for old, new in zip(lows, lows[1:])]
    plus_dm = _smooth([None] + [u if u > d and u > 0 else 0.0 for u, d in zip(ups, downs)], period, wilder=True)
    minus_dm = _smooth([None] + [d if d > u and d > 0 else 0.0 for u, d in zip(ups, downs)], period, wilder=True)
    ranges = atr(highs, lows, closes, period)
    # Flat bars (zero true range) have no directional movement either way: 0, not 0/0.
    plus_di = [None if tr is None else 100 * dm / tr if tr > 0 else 0.0 for dm, tr in zip(plus_dm, ranges)]
    minus_di = [None if tr is None else 100 * dm / tr if tr > 0 else 0.0 for dm, tr in zip(minus_dm, ranges)]
    dx = [None if p is None else 100 * abs(p - m) / (p + m) if p + m > 0 else 0.0 for p, m in zip(plus_di, minus_di)]
    return _smooth(dx, period, wilder=True), plus_di, minus_di


def session_vwap(candles: Sequence[Candle], now_or_last_start: datetime) -> float | None:
    """Volume-weighted typical price (H+L+C)/3 over the New York regular session of that moment's date.

    Counts candles starting in [open, close) and no later than the moment (oldest first, so the scan
    stops at the first candle before the open). None on a closed day, before the open, or without volume.
    """
    session = market_calendar.regular_session(market_calendar.market_date(now_or_last_start))
    if session is None:
        return None
    opens_at, closes_at = session
    weighted, volume = 0.0, 0
    for candle in reversed(candles):
        if candle.start < opens_at:
            break
        if candle.start < closes_at and candle.start <= now_or_last_start:
            weighted += float(candle.high + candle.low + candle.close) / 3 * candle.volume
            volume += candle.volume
    return weighted / volume if volume > 0 else None


def volume_ratio(volumes: Sequence[float], lookback: int = 20) -> Series:
    """Each bar's volume / the mean volume of the `lookback` bars before it; None when that mean is 0."""
    _check(lookback)
    out: Series = [None] * len(volumes)
    total = sum(volumes[:lookback])
    for i in range(lookback, len(volumes)):
        out[i] = volumes[i] * lookback / total if total > 0 else None
        total += volumes[i] - volumes[i - lookback]
    return out


def _previous(series: Series) -> float | None:
    return series[-2] if len(series) >= 2 else None


def compute_indicators(candles: Sequence[Candle]) -> Indicators:
    """Latest value of every `Indicators` field from candles oldest first; None where too few bars."""
    if not candles:
        return Indicators()
    highs = [float(c.high) for c in candles]
    lows = [float(c.low) for c in candles]
    closes = [float(c.close) for c in candles]
    macd_line, macd_signal, macd_hist = macd(closes)
    kc_upper, kc_middle, kc_lower = keltner(highs, lows, closes, SQUEEZE_PERIOD, SQUEEZE_KC_MULT)
    adx14, plus_di14, minus_di14 = adx(highs, lows, closes)
    # Window-only indicators depend on their last window alone, so they run on the tail: same values,
    # a fraction of the work (compute time per signal is budgeted well under a millisecond).
    bb_upper, bb_middle, bb_lower = bollinger(closes[-(SQUEEZE_PERIOD + 1) :], SQUEEZE_PERIOD, SQUEEZE_BB_K)
    momentum_bars = 2 * SQUEEZE_PERIOD - 1
    momentum = _ttm_momentum(highs[-momentum_bars:], lows[-momentum_bars:], closes[-momentum_bars:], SQUEEZE_PERIOD)
    squeeze_now = _inside(bb_upper[-1], bb_lower[-1], kc_upper[-1], kc_lower[-1])
    squeeze_before = _inside(*(_previous(band) for band in (bb_upper, bb_lower, kc_upper, kc_lower)))
    return Indicators(
        ema8=ema(closes, 8)[-1],
        ema13=ema(closes, 13)[-1],
        ema21=ema(closes, 21)[-1],
        ema48=ema(closes, 48)[-1],
        ema200=ema(closes, 200)[-1],
        atr14=atr(highs, lows, closes)[-1],
        rsi14=rsi(closes)[-1],
        macd=macd_line[-1],
        macd_signal=macd_signal[-1],
        macd_hist=macd_hist[-1],
        macd_hist_prev=_previous(macd_hist),
        bb_upper=bb_upper[-1],
        bb_middle=bb_middle[-1],
        bb_lower=bb_lower[-1],
        kc_upper=kc_upper[-1],
        kc_middle=kc_middle[-1],
        kc_lower=kc_lower[-1],
        ttm_squeeze_on=squeeze_now,
        ttm_fired=None if squeeze_before is None or squeeze_now is None else squeeze_before and not squeeze_now,
        ttm_momentum=momentum[-1],
        adx14=adx14[-1],
        plus_di14=plus_di14[-1],
        minus_di14=minus_di14[-1],
        vwap=session_vwap(candles, candles[-1].start),
        volume_ratio=volume_ratio([c.volume for c in candles[-(VOLUME_LOOKBACK + 1) :]], VOLUME_LOOKBACK)[-1],
    )
