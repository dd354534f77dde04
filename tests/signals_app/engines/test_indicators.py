"""Indicator series against hand-computed values, their None prefixes, the New York session VWAP
and `compute_indicators` over short and realistic candle series (pure: no database)."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from optionsengine.lib import market_calendar
from optionsengine.lib.market_calendar import MARKET_TZ
from optionsengine.marketdata.types import Candle
from signals_app.engines.indicators import (
    adx,
    atr,
    bollinger,
    compute_indicators,
    ema,
    keltner,
    macd,
    rsi,
    session_vwap,
    sma,
    ttm_squeeze,
    volume_ratio,
)
from signals_app.engines.snapshot import Indicators

approx = pytest.approx


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MARKET_TZ).astimezone(UTC)


def bar(start: datetime, high, low, close, volume: int = 1000) -> Candle:
    return Candle(start, Decimal(str(close)), Decimal(str(high)), Decimal(str(low)), Decimal(str(close)), volume)


LAST_DAY = date(2026, 3, 9)  # a Monday: 200 five-minute bars reach back over the weekend and the DST switch


def session_candles(count: int, *, seed: int = 7, last_day: date = LAST_DAY, price: float = 600.0) -> list[Candle]:
    """`count` 5-minute candles of a seeded random walk over regular sessions only, the last one at
    15:55 New York on `last_day` (78 bars a day)."""
    day, starts = last_day, []
    while len(starts) < count:
        if (session := market_calendar.regular_session(day)) is not None:
            opens, closes = session
            day_starts = [opens + timedelta(minutes=5 * i) for i in range((closes - opens) // timedelta(minutes=5))]
            starts = day_starts + starts
        day -= timedelta(days=1)
    rng = random.Random(seed)
    out = []
    for start in starts[-count:]:
        close = price + rng.gauss(0, 0.6)
        high, low = max(price, close) + abs(rng.gauss(0, 0.25)), min(price, close) - abs(rng.gauss(0, 0.25))
        out.append(Candle(start, *(Decimal(f"{x:.4f}") for x in (price, high, low, close)), rng.randint(1_000, 90_000)))
        price = close
    return out


def columns(candles) -> tuple[list[float], list[float], list[float]]:
    return [float(c.high) for c in candles], [float(c.low) for c in candles], [float(c.close) for c in candles]


# --- moving averages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "period", "expected"),
    [
        ([1, 2, 3, 4, 5], 3, [None, None, 2, 3, 4]),
        ([4.0, 6.0], 1, [4, 6]),
        ([1, 2, 3], 3, [None, None, 2]),  # exactly one window
        ([1, 2], 3, [None, None]),  # one value short
        ([], 3, []),
        ([None, None, 2, 4, 6], 2, [None, None, None, 3, 5]),  # a None prefix is skipped
    ],
)
def test_sma_averages_each_full_window_and_is_none_before(values, period, expected):
    assert sma(values, period) == approx(expected)


@pytest.mark.parametrize(
    ("values", "period", "expected"),
    [
        ([7.5] * 6, 4, [None, None, None, 7.5, 7.5, 7.5]),  # EMA of a constant is that constant
        # alpha = 2/3, seed = mean(2, 4) = 3; then 3 + ⅔(6 − 3) = 5; 5 + ⅔(8 − 5) = 7; 7 + ⅔(4 − 7) = 5
        ([2, 4, 6, 8, 4], 2, [None, 3, 5, 7, 5]),
        ([3, 1, 2], 1, [3, 1, 2]),  # alpha 1: the values themselves
        ([1, 2], 3, [None, None]),
        ([None, 1, 3, 5], 2, [None, None, 2, 4]),  # chains after a None prefix (MACD signal line)
    ],
)
def test_ema_is_seeded_with_the_sma_of_its_first_period(values, period, expected):
    assert ema(values, period) == approx(expected)


@pytest.mark.parametrize("function", [sma, ema])
@pytest.mark.parametrize("period", [0, -1])
def test_a_period_below_one_is_a_programming_error(function, period):
    with pytest.raises(ValueError, match="at least 1"):
        function([1.0, 2.0], period)


# --- RSI, ATR, MACD ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closes", "period", "expected"),
    [
        (list(range(1, 21)), 14, [None] * 14 + [100.0] * 6),  # strictly rising: no losses
        (list(range(20, 0, -1)), 14, [None] * 14 + [0.0] * 6),  # strictly falling: no gains
        ([5.0] * 16, 14, [None] * 14 + [50.0] * 2),  # no movement: neutral, not 0/0
        # Changes +1 −1 +2 −1. Bar 2: gain (1 + 0)/2 = 0.5, loss 0.5 → 50. Bar 3: gain (0.5 + 2)/2 = 1.25,
        # loss (0.5 + 0)/2 = 0.25 → RS 5 → 100 − 100/6. Bar 4: gain 0.625, loss 0.625 → 50.
        ([10, 11, 10, 12, 11], 2, [None, None, 50.0, 100 - 100 / 6, 50.0]),
        (list(range(1, 15)), 14, [None] * 14),  # 14 closes give 13 changes: one short
        (list(range(1, 16)), 14, [None] * 14 + [100.0]),  # 15 closes: first value
        ([], 14, []),
    ],
)
def test_rsi_uses_wilder_smoothing_and_starts_at_bar_period(closes, period, expected):
    assert rsi(closes, period) == approx(expected)


@pytest.mark.parametrize(
    ("bars", "period", "expected"),
    [
        ([(11, 9, 10)] * 6, 3, [None, None, None, 2, 2, 2]),  # constant range, no gaps: ATR = range
        # TR1 = 12 − 9 = 3 (reaches the previous close 9), TR2 = 11 − 9 = 2, TR3 = 15 − 10 = 5 (gap up).
        # ATR at bar 2 = (3 + 2)/2 = 2.5; bar 3 = 2.5 + (5 − 2.5)/2 = 3.75.
        ([(10, 8, 9), (12, 10, 11), (11, 9, 10), (15, 13, 14)], 2, [None, None, 2.5, 3.75]),
        ([(11, 9, 10)] * 3, 3, [None] * 3),  # needs period + 1 bars
        ([], 14, []),
    ],
)
def test_atr_averages_true_range_including_gaps(bars, period, expected):
    highs, lows, closes = ([b[i] for b in bars] for i in range(3))
    assert atr(highs, lows, closes, period) == approx(expected)


def test_macd_worked_example_fast_2_slow_3_signal_2():
    # EMA2 (α ⅔): 1.5, 2.5, 3.5, 6.5 from bar 1. EMA3 (α ½): 2, 3, 5.5 from bar 2.
    # Line: 0.5, 0.5, 1.0 from bar 2. Signal (α ⅔): 0.5, 0.5 + ⅔·0.5 = 5/6 from bar 3. Hist: 0, 1/6.
    line, signal, hist = macd([1, 2, 3, 4, 8], fast=2, slow=3, signal=2)
    assert line == approx([None, None, 0.5, 0.5, 1.0])
    assert signal == approx([None, None, None, 0.5, 5 / 6])
    assert hist == approx([None, None, None, 0.0, 1 / 6])


@pytest.mark.parametrize(("count", "line_from", "signal_from"), [(40, 25, 33), (34, 25, 33), (33, 25, None), (25, None, None)])
def test_macd_defaults_define_the_line_from_bar_25_and_the_signal_from_bar_33(count, line_from, signal_from):
    line, signal, hist = macd([100.0] * count)
    first = lambda series: next((i for i, v in enumerate(series) if v is not None), None)  # noqa: E731
    assert (first(line), first(signal), first(hist)) == (line_from, signal_from, signal_from)
    assert [v for v in hist if v is not None] == approx([0.0] * (count - 33 if signal_from else 0))


# --- bands and the squeeze -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closes", "period", "k", "expected"),
    [
        # The textbook population example: mean 5, σ 2.
        ([2, 4, 4, 4, 5, 5, 7, 9], 8, 2.0, ([None] * 7 + [9], [None] * 7 + [5], [None] * 7 + [1])),
        # Each pair has mean x + 0.5 and σ 0.5.
        ([1, 2, 3, 4], 2, 2.0, ([None, 2.5, 3.5, 4.5], [None, 1.5, 2.5, 3.5], [None, 0.5, 1.5, 2.5])),
        ([601.25] * 4, 3, 2.0, ([None, None, 601.25, 601.25],) * 3),  # no spread, no width
        ([1, 2], 3, 2.0, ([None, None],) * 3),
    ],
)
def test_bollinger_is_sma_plus_minus_k_population_sigmas(closes, period, k, expected):
    assert bollinger(closes, period, k) == tuple(approx(band) for band in expected)


def test_bollinger_rolling_window_matches_a_fresh_computation_at_price_level_600():
    closes = [600 + 0.01 * ((i * 37) % 11) for i in range(200)]
    upper, middle, _ = bollinger(closes, 20)
    window = closes[-20:]
    mean = sum(window) / 20
    sigma = (sum((c - mean) ** 2 for c in window) / 20) ** 0.5
    assert (middle[-1], upper[-1]) == (approx(mean, abs=1e-9), approx(mean + 2 * sigma, abs=1e-9))


def test_keltner_is_ema_plus_minus_atr_multiples_from_bar_period():
    # Constant bars 11/9/10: EMA 10, ATR 2 → 10 ± 1.5·2. Bar 2 has an EMA but no ATR yet: all None.
    upper, middle, lower = keltner([11] * 5, [9] * 5, [10] * 5, period=3, atr_mult=1.5)
    assert (upper, middle, lower) == (
        approx([None, None, None, 13, 13]),
        approx([None, None, None, 10, 10]),
        approx([None, None, None, 7, 7]),
    )


@pytest.mark.parametrize(
    ("highs", "lows", "closes", "squeeze", "momentum"),
    [
        # Quiet bars: Bollinger width 0 inside Keltner ±1.5 → on; close = Donchian mid = SMA → momentum 0.
        ([11] * 8, [9] * 8, [10] * 8, [None] * 4 + [True] * 4, [None] * 6 + [0, 0]),
        # A steady trend of range-less bars: σ of 0,1,2,3 is 1.118 → Bollinger ±2.24 is wider than
        # Keltner ±1.5·ATR 1 → off. Close − mean(Donchian mid, SMA) = i − (i − 1.5) = 1.5 every bar.
        (list(range(8)), list(range(8)), list(range(8)), [None] * 4 + [False] * 4, [None] * 6 + [1.5, 1.5]),
        # Same trend with ±1 ranges: Keltner ±1.5·2 = ±3 contains Bollinger → on; Donchian mid
        # (i + 1 + i − 4)/2 = i − 1.5 → momentum still 1.5.
        ([i + 1 for i in range(8)], [i - 1 for i in range(8)], list(range(8)), [None] * 4 + [True] * 4, [None] * 6 + [1.5, 1.5]),
        ([11] * 3, [9] * 3, [10] * 3, [None] * 3, [None] * 3),
    ],
)
def test_ttm_squeeze_state_and_momentum(highs, lows, closes, squeeze, momentum):
    on, mom = ttm_squeeze(highs, lows, closes, period=4)
    assert on == squeeze
    assert mom == approx(momentum)


@pytest.mark.parametrize(
    ("closes", "ranged"),
    [
        # Last window 10, 9, 12, 13: Bollinger 11 ± 3.16 = [7.84, 14.16]; Keltner EMA 11.536 ± 1.5·2.375
        # = [7.97, 15.10]. The upper band is inside, the lower pokes out below: no squeeze.
        ([10, 10, 10, 10, 10, 9, 12, 13], True),
        ([10, 10, 10, 10, 10, 11, 8, 7], True),  # the mirror image: lower inside, upper out
        ([10] * 8, False),  # range-less flat bars: the bands coincide, which is not strictly inside
    ],
)
def test_a_squeeze_needs_both_bollinger_bands_strictly_inside_keltner(closes, ranged):
    spread = 1 if ranged else 0
    on, _ = ttm_squeeze([c + spread for c in closes], [c - spread for c in closes], closes, period=4)
    assert on[-1] is False


def test_ttm_squeeze_needs_a_regression_of_at_least_two_bars():
    with pytest.raises(ValueError, match="at least 2"):
        ttm_squeeze([1.0] * 5, [1.0] * 5, [1.0] * 5, period=1)


# --- ADX -----------------------------------------------------------------------------------------


def test_adx_worked_example_period_2():
    # Bar 1: +DM 2, TR 3. Bar 2: no DM, TR 2. Bar 3: +DM 2, TR 3. Bar 4: −DM 2, TR 4.
    # Smoothed (α ½) from bar 2: TR 2.5, 2.75, 3.375; +DM 1, 1.5, 0.75; −DM 0, 0, 1.
    # +DI 40, 54.55, 22.22; −DI 0, 0, 29.63; DX 100, 100, 100·0.25/1.75 = 14.29.
    # ADX from bar 3: mean(100, 100) = 100; then 100 + (14.29 − 100)/2 = 57.14.
    adx_, plus_di, minus_di = adx([10, 12, 11, 13, 12], [8, 9, 9, 10, 8], [9, 11, 10, 12, 9], period=2)
    assert plus_di == approx([None, None, 40, 100 * 1.5 / 2.75, 100 * 0.75 / 3.375])
    assert minus_di == approx([None, None, 0, 0, 100 / 3.375])
    assert adx_ == approx([None, None, None, 100, 100 + (100 / 7 - 100) / 2])


@pytest.mark.parametrize(
    ("highs", "lows", "closes", "expected_last"),
    [
        # Every bar one higher with range 2: +DM 1, TR 2 → +DI 50, −DI 0, DX and ADX 100.
        ([i + 1 for i in range(30)], [i - 1 for i in range(30)], list(range(30)), (100, 50, 0)),
        ([31 - i for i in range(30)], [29 - i for i in range(30)], [30 - i for i in range(30)], (100, 0, 50)),
        ([11] * 30, [9] * 30, [10] * 30, (0, 0, 0)),  # no directional movement
        ([10] * 30, [10] * 30, [10] * 30, (0, 0, 0)),  # no range at all: 0, not 0/0
    ],
)
def test_adx_reads_trend_strength_and_direction(highs, lows, closes, expected_last):
    series = adx(highs, lows, closes, period=14)
    assert tuple(s[-1] for s in series) == approx(expected_last)


@pytest.mark.parametrize(("count", "di_from", "adx_from"), [(28, 14, 27), (27, 14, None), (15, 14, None), (14, None, None)])
def test_adx_starts_at_bar_2_period_minus_1_and_di_at_bar_period(count, di_from, adx_from):
    adx_, plus_di, _ = adx([i + 1.0 for i in range(count)], [i - 1.0 for i in range(count)], [float(i) for i in range(count)])
    first = lambda series: next((i for i, v in enumerate(series) if v is not None), None)  # noqa: E731
    assert (first(plus_di), first(adx_)) == (di_from, adx_from)
    assert len(adx_) == len(plus_di) == count


# --- volume ratio and VWAP -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("volumes", "lookback", "expected"),
    [
        ([10] * 20 + [20], 20, [None] * 20 + [2.0]),
        ([1, 3, 4, 2], 2, [None, None, 2.0, 2 / 3.5]),  # 4 / mean(1, 3); 2 / mean(3, 4)
        ([10] * 20, 20, [None] * 20),  # no bar has 20 before it
        ([0, 0, 5], 2, [None, None, None]),  # nothing traded before: no ratio
    ],
)
def test_volume_ratio_compares_each_bar_with_the_mean_of_the_bars_before(volumes, lookback, expected):
    assert volume_ratio(volumes, lookback) == approx(expected)


WINTER = date(2026, 3, 6)  # Friday, EST: the open is 14:30 UTC
SUMMER = date(2026, 3, 9)  # Monday after the switch to EDT: the open is 13:30 UTC


@pytest.mark.parametrize("day", [WINTER, SUMMER])
def test_vwap_uses_only_the_new_york_session_of_that_day(day):
    previous = market_calendar.previous_trading_day(day)
    candles = [
        bar(ny(previous, 15, 55), 500, 490, 495, volume=10_000),  # yesterday's last bar
        bar(ny(day, 9, 25), 300, 290, 295, volume=10_000),  # pre-market
        bar(ny(day, 9, 30), 101, 99, 100, volume=100),  # typical 100
        bar(ny(day, 9, 35), 104, 101, 103, volume=300),  # typical 102.666…
    ]
    assert session_vwap(candles, candles[-1].start) == approx((100 * 100 + 308 / 3 * 300) / 400)


@pytest.mark.parametrize(("day", "included"), [(WINTER, False), (SUMMER, True)])
def test_vwap_session_follows_daylight_saving_time(day, included):
    at_1330_utc = datetime(day.year, day.month, day.day, 13, 30, tzinfo=UTC)  # 08:30 EST, 09:30 EDT
    candles = [bar(at_1330_utc, 201, 199, 200), bar(ny(day, 10, 0), 101, 99, 100)]
    assert session_vwap(candles, candles[-1].start) == approx(150 if included else 100)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ny(SUMMER, 9, 29), None),  # before the open
        (ny(SUMMER, 9, 30), 100),  # the first bar only
        (ny(SUMMER, 9, 35), 150),
        (ny(SUMMER, 17, 0), 150),  # after the close: the full session (the 16:00 bar is post-market)
        (ny(date(2026, 3, 7), 10, 0), None),  # Saturday
    ],
)
def test_vwap_counts_session_bars_up_to_the_moment(at, expected):
    candles = [bar(ny(SUMMER, 9, 30), 101, 99, 100), bar(ny(SUMMER, 9, 35), 201, 199, 200), bar(ny(SUMMER, 16, 0), 999, 997, 998)]
    assert session_vwap(candles, at) == (None if expected is None else approx(expected))


def test_vwap_ends_at_the_early_close_and_needs_volume():
    black_friday = date(2026, 11, 27)  # closes 13:00 New York
    candles = [bar(ny(black_friday, 12, 55), 101, 99, 100), bar(ny(black_friday, 13, 0), 301, 299, 300)]
    assert session_vwap(candles, candles[-1].start) == approx(100)
    assert session_vwap([bar(ny(black_friday, 10, 0), 101, 99, 100, volume=0)], ny(black_friday, 10, 0)) is None


# --- compute_indicators --------------------------------------------------------------------------


def test_compute_indicators_of_no_candles_is_all_none():
    assert compute_indicators([]) == Indicators()


# Fields that become defined at a given number of candles (the bar count each indicator needs).
FIRST_DEFINED_AT = {
    "ema8": 8, "ema13": 13, "ema21": 21, "ema48": 48, "ema200": 200, "atr14": 15, "rsi14": 15,
    "macd": 26, "macd_signal": 34, "macd_hist": 34, "macd_hist_prev": 35,
    "bb_upper": 20, "bb_middle": 20, "bb_lower": 20, "kc_upper": 21, "kc_middle": 21, "kc_lower": 21,
    "ttm_squeeze_on": 21, "ttm_fired": 22, "ttm_momentum": 39,
    "adx14": 28, "plus_di14": 15, "minus_di14": 15, "volume_ratio": 21, "vwap": 1,
}  # fmt: skip


@pytest.mark.parametrize("field", sorted(FIRST_DEFINED_AT))
def test_each_field_is_none_one_candle_short_and_defined_at_its_minimum(field):
    candles = session_candles(200)
    needed = FIRST_DEFINED_AT[field]
    if needed > 1:
        assert getattr(compute_indicators(candles[-(needed - 1) :]), field) is None
    assert getattr(compute_indicators(candles[-needed:]), field) is not None


def test_compute_indicators_matches_the_series_functions_on_200_realistic_candles():
    candles = session_candles(200)
    highs, lows, closes = columns(candles)
    ind = compute_indicators(candles)
    line, signal, hist = macd(closes)
    bands = bollinger(closes) + keltner(highs, lows, closes)
    on, momentum = ttm_squeeze(highs, lows, closes)
    expected = {
        "ema8": ema(closes, 8)[-1], "ema13": ema(closes, 13)[-1], "ema21": ema(closes, 21)[-1],
        "ema48": ema(closes, 48)[-1], "ema200": ema(closes, 200)[-1], "atr14": atr(highs, lows, closes)[-1],
        "rsi14": rsi(closes)[-1], "macd": line[-1], "macd_signal": signal[-1], "macd_hist": hist[-1],
        "macd_hist_prev": hist[-2], "ttm_momentum": momentum[-1], "volume_ratio": volume_ratio([c.volume for c in candles])[-1],
        **dict(zip(("bb_upper", "bb_middle", "bb_lower", "kc_upper", "kc_middle", "kc_lower"), (b[-1] for b in bands))),
        **dict(zip(("adx14", "plus_di14", "minus_di14"), (s[-1] for s in adx(highs, lows, closes)))),
        "vwap": session_vwap(candles, candles[-1].start),
    }  # fmt: skip
    assert {k: getattr(ind, k) for k in expected} == {k: approx(v, rel=1e-9) for k, v in expected.items()}
    assert (ind.ttm_squeeze_on, ind.ttm_fired) == (on[-1], on[-2] and not on[-1])
    # Sanity of a real market: ordered bands, bounded oscillators, VWAP inside today's range.
    today = [c for c in candles if c.start >= ny(LAST_DAY, 9, 30)]
    assert ind.bb_lower < ind.bb_middle < ind.bb_upper and ind.kc_lower < ind.kc_middle < ind.kc_upper
    assert 0 < ind.rsi14 < 100 and 0 < ind.adx14 < 100
    assert float(min(c.low for c in today)) < ind.vwap < float(max(c.high for c in today))


@pytest.mark.parametrize(
    ("last_close", "fired", "squeeze_on"),
    [
        (20, True, False),  # σ jumps to 2.18 → Bollinger ±4.36 leaves Keltner ±1.5·1.475 → fired
        (13, False, True),  # a smaller move stays inside Keltner: still squeezed
    ],
)
def test_ttm_fired_when_the_squeeze_releases_on_the_last_bar(last_close, fired, squeeze_on):
    start = ny(SUMMER, 9, 30)
    quiet = [bar(start + timedelta(minutes=5 * i), 10.5, 9.5, 10) for i in range(30)]
    last = bar(start + timedelta(minutes=150), last_close + 0.5, last_close - 0.5, last_close)
    ind = compute_indicators(quiet + [last])
    assert (ind.ttm_fired, ind.ttm_squeeze_on) == (fired, squeeze_on)
    assert compute_indicators(quiet).ttm_fired is False  # on both bars: nothing fired


def test_vwap_of_compute_indicators_is_none_when_the_last_candle_is_outside_the_session():
    candles = session_candles(60)
    after_close = dataclasses.replace(candles[-1], start=ny(date(2026, 3, 14), 10, 0))  # Saturday
    assert compute_indicators(candles[:-1] + [after_close]).vwap is None
