"""The simulated price path: a pure, deterministic function of (seed, symbol, time).

The log price is a sum of "value noise" octaves (random knots, linearly interpolated) with knot
spacings 1, 4, 16 … 65 536 market minutes, scaled so returns at every horizon up to ~6 months
have the symbol's volatility, while the level stays stationary around the reference price
(a random walk would drift anywhere over years of replays). Knots come from a counter-based
hash, so any instant is computed directly — no state, no replay from an origin.

Time runs on a "market minute" axis: each weekday holds 420 units, 390 for the regular session
and 30 spread thinly over the night (overnight gaps); weekends are flat. That keeps intraday
volatility realistic and makes the Friday close continue into Monday's pre-market.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime
from functools import lru_cache

from optionsengine.lib.market_calendar import MARKET_TZ

UNITS_PER_DAY = 420
_NIGHT_BEFORE_OPEN = 20  # units between midnight and 09:30
_SESSION_MINUTES = 390
_OPEN_MINUTE = 570  # 09:30
_CLOSE_MINUTE = 960  # 16:00
_EPOCH_MONDAY = date(1970, 1, 5)
_MASK = (1 << 64) - 1
OCTAVES = tuple(4**k for k in range(9))
# Calibrated so the realised daily volatility of the summed octaves matches the target (see
# tests/marketdata/test_simulated_path.py); linear value noise adds variance at every scale.
_OCTAVE_SCALE = 0.65
_SQRT3 = math.sqrt(3.0)


def mix64(x: int) -> int:
    """splitmix64 finaliser: a fast, well-distributed integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def unit(x: int) -> float:
    """A hash value mapped to [0, 1)."""
    return (mix64(x) >> 11) * (1.0 / (1 << 53))


@lru_cache(maxsize=1024)
def symbol_key(seed: int, symbol: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{symbol}".encode()).digest()[:8], "big")


def weekdays_before(day: date) -> int:
    weeks, rest = divmod((day - _EPOCH_MONDAY).days, 7)
    return weeks * 5 + min(rest, 5)


def session_start_units(day: date) -> float:
    """The market-minute coordinate of 09:30 New York on `day`."""
    return weekdays_before(day) * UNITS_PER_DAY + _NIGHT_BEFORE_OPEN


def market_units(when: datetime) -> float:
    local = when.astimezone(MARKET_TZ)
    day = local.date()
    base = weekdays_before(day) * UNITS_PER_DAY
    if day.weekday() >= 5:
        return float(base)
    minute = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60e6
    if minute < _OPEN_MINUTE:
        intraday = _NIGHT_BEFORE_OPEN * minute / _OPEN_MINUTE
    elif minute < _CLOSE_MINUTE:
        intraday = _NIGHT_BEFORE_OPEN + (minute - _OPEN_MINUTE)
    else:
        night_after = UNITS_PER_DAY - _NIGHT_BEFORE_OPEN - _SESSION_MINUTES
        intraday = _NIGHT_BEFORE_OPEN + _SESSION_MINUTES + night_after * (minute - _CLOSE_MINUTE) / 480
    return base + intraday


def per_unit_sigma(annual_vol: float) -> float:
    return annual_vol / math.sqrt(252 * _SESSION_MINUTES)


class LogPath:
    """ln(price / reference) along the market-minute axis for one (seed, symbol, volatility).

    Knot values are memoised per instance, so evaluating a run of nearby instants (candles)
    costs about one new hash per minute.
    """

    def __init__(self, key: int, annual_vol: float) -> None:
        sigma = per_unit_sigma(annual_vol)
        self._key = key
        self._octaves = tuple(
            (spacing, sigma * math.sqrt(spacing) * _OCTAVE_SCALE * _SQRT3, mix64(key ^ spacing))
            for spacing in OCTAVES
        )
        self._knots: dict[tuple[int, int], float] = {}

    def _knot(self, octave_key: int, index: int) -> float:
        cached = self._knots.get((octave_key, index))
        if cached is None:
            # Uniform on [-1, 1); the √3 in the amplitude gives it unit variance.
            cached = 2.0 * unit(octave_key ^ (index * 0x2545F4914F6CDD1D)) - 1.0
            if len(self._knots) > 200_000:
                self._knots.clear()
            self._knots[(octave_key, index)] = cached
        return cached

    def at(self, units: float) -> float:
        total = 0.0
        for spacing, amplitude, octave_key in self._octaves:
            position = units / spacing
            index = math.floor(position)
            frac = position - index
            left = self._knot(octave_key, index)
            right = self._knot(octave_key, index + 1)
            total += amplitude * (left + (right - left) * frac)
        return total

    def run(self, start: int, count: int) -> list[float]:
        """`at(start + i)` for i in 0..count-1, built one interpolation segment at a time."""
        total = [0.0] * count
        for spacing, amplitude, octave_key in self._octaves:
            position = start
            end = start + count
            while position < end:
                index, offset = divmod(position, spacing)
                stop = min(end, (index + 1) * spacing)
                left = amplitude * self._knot(octave_key, index)
                slope = (amplitude * self._knot(octave_key, index + 1) - left) / spacing
                base = position - start
                for i, r in enumerate(range(offset, offset + stop - position), base):
                    total[i] += left + slope * r
                position = stop
        return total

    def draws(self, start: int, count: int) -> list[int]:
        """One 64-bit hash per unit in [start, start + count): a source of per-minute randomness."""
        key = self._key
        return [mix64(key ^ (unit_index * 0x9E3779B97F4A7C15)) for unit_index in range(start, start + count)]

    def noise(self, units: float, salt: int) -> float:
        """A uniform [0, 1) draw tied to this path and instant (wicks, volumes, flow)."""
        return unit(self._key ^ mix64(int(units * 16) ^ (salt << 40)))


def volatility_regime(key: int, units: float) -> float:
    """A slow multiplier on implied volatility (≈0.75–1.35) that drifts over weeks."""
    spacing = 5 * UNITS_PER_DAY
    position = units / spacing
    index = math.floor(position)
    frac = position - index
    octave_key = mix64(key ^ 0x5EED)
    left = 2.0 * unit(octave_key ^ index) - 1.0
    right = 2.0 * unit(octave_key ^ (index + 1)) - 1.0
    return math.exp(0.3 * (left + (right - left) * frac))
