"""What kind of market this is: the regime classifier and volatility agents (reference §5.9).

Pure. ATR and Bollinger-band width are ranked against the earlier bars of the signal timeframe
(the last 120 values), so "high volatility" means high for this symbol and timeframe.

Decisions relative to the reference:
- No faked statistics: the reference substituted ADX 20 and percentile 50 when candles were
  short, which classified an unknown market as "transitional" and raised the meta threshold.
  Here the classifier is omitted until ADX and both percentiles are real.
- In a confirmed trend the vote takes the trend's direction. The reference voted the signal's
  own direction even when the trend opposed it, echoing the signal back as evidence. Agreement
  with the signal still adds 10 and disagreement subtracts 10, as in the reference.
- Volatility runs only when IV rank is known (the reference ran it on data it never had). It
  stays neutral: for an option buyer IV rank says how expensive premium is, not which way to go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optionsengine.marketdata.types import Candle
from signals_app.engines.agents.common import clamp, defined, ohlc, percentile_rank, signal_bias
from signals_app.engines.indicators import atr, bollinger
from signals_app.engines.outcome import BEARISH, BULLISH, CORE, NEUTRAL, AgentVote
from signals_app.engines.setup_type import BREAKOUT, MEAN_REVERT, strategy_type
from signals_app.engines.snapshot import DecisionInput, Indicators

TREND = "trend"
RANGE = "range"
COMPRESSION = "compression"
EXPANSION = "expansion"
TRANSITIONAL = "transitional"
LOW = "low"
NORMAL = "normal"
HIGH = "high"

PERCENTILE_WINDOW = 120
MIN_PERCENTILE_VALUES = 10
VOLUME_SURGE_RATIO = 2.0  # a compression breaking on twice the usual volume is an expansion


@dataclass(frozen=True)
class VolatilityStats:
    """Percentiles 0–100 of the latest ATR14 and BB(20, 2) width; None with too few values."""

    atr_percentile: float | None
    bbw_percentile: float | None


def volatility_stats(candles: Sequence[Candle]) -> VolatilityStats:
    highs, lows, closes = ohlc(candles)
    ranges = defined(atr(highs, lows, closes, 14))
    upper, middle, lower = bollinger(closes, 20, 2.0)
    # Width relative to the middle band, so a price drift alone does not read as volatility.
    widths = [(u - lo) / m for u, m, lo in zip(upper, middle, lower) if u is not None and m]
    return VolatilityStats(
        percentile_rank(ranges[-PERCENTILE_WINDOW:], MIN_PERCENTILE_VALUES),
        percentile_rank(widths[-PERCENTILE_WINDOW:], MIN_PERCENTILE_VALUES),
    )


def classify(adx: float, atr_pct: float, bbw_pct: float, volume_ratio: float | None) -> tuple[str, float]:
    """(regime, confidence) by the reference's rules, first match wins."""
    if adx > 30 and atr_pct > 50:
        return TREND, 60 + min(30, 1.5 * (adx - 30))
    if bbw_pct < 15 and adx < 20:
        if volume_ratio is not None and volume_ratio > VOLUME_SURGE_RATIO:
            return EXPANSION, 60
        return COMPRESSION, 65 + min(25, 1.5 * (20 - bbw_pct))
    if bbw_pct > 85 and atr_pct > 70:
        return EXPANSION, 60 + min(25, bbw_pct - 85)
    if adx < 20 and atr_pct < 50:
        return RANGE, 55 + min(25, 2 * (20 - adx))
    return TRANSITIONAL, 40


def _volatility_state(atr_pct: float) -> str:
    return LOW if atr_pct < 25 else HIGH if atr_pct > 75 else NORMAL


def _trend_direction(price: float, ind: Indicators) -> str | None:
    """Price and EMAs stacked the same way (price > EMA8 > EMA21, or the mirror)."""
    if ind.ema8 is None or ind.ema21 is None:
        return None
    if price > ind.ema8 > ind.ema21:
        return BULLISH
    if price < ind.ema8 < ind.ema21:
        return BEARISH
    return None


def _nudge(value: float, delta: float, limit: float) -> float:
    """`value` moved by `delta` but not past `limit`; a value already beyond the limit stays put."""
    if delta > 0:
        return max(value, min(limit, value + delta))
    return min(value, max(limit, value + delta))


def regime_classifier_agent(inp: DecisionInput) -> AgentVote | None:
    """Regime and volatility state (feeding the meta threshold); directional only in a clear trend."""
    ind = inp.market.indicators
    stats = volatility_stats(inp.market.candles)
    if ind.adx14 is None or stats.atr_percentile is None or stats.bbw_percentile is None:
        return None
    regime, confidence = classify(ind.adx14, stats.atr_percentile, stats.bbw_percentile, ind.volume_ratio)
    volatility_state = _volatility_state(stats.atr_percentile)
    reasons = [f"regime_{regime}", f"volatility_{volatility_state}"]
    bias = NEUTRAL
    # The reference also required ADX > 25 here; a trend regime already means ADX > 30.
    trend = _trend_direction(float(inp.market.price), ind) if regime == TREND else None
    if trend is not None:
        bias = trend
        if trend == signal_bias(inp.signal.direction):
            confidence = _nudge(confidence, +10, 85)
            reasons.append("trend_agrees_with_signal")
        else:
            confidence = _nudge(confidence, -10, 30)
            reasons.append("trend_opposes_signal")
    elif regime == RANGE:
        strategy = strategy_type(inp.bias_state)
        if strategy == BREAKOUT:
            confidence = _nudge(confidence, -15, 25)
            reasons.append("breakout_in_range")
        elif strategy == MEAN_REVERT:
            confidence = _nudge(confidence, +10, 80)
            reasons.append("mean_revert_in_range")
    confidence = clamp(confidence, 15, 90)
    metadata = {
        "regime_context": {
            "regime": regime,
            "volatility_state": volatility_state,
            "trend_strength": round(ind.adx14, 2),
            "confidence": confidence,
        },
        "atr_percentile": round(stats.atr_percentile, 1),
        "bbw_percentile": round(stats.bbw_percentile, 1),
        "volume_ratio": None if ind.volume_ratio is None else round(ind.volume_ratio, 2),
    }
    return AgentVote("regime_classifier", CORE, bias, confidence, tuple(reasons), metadata=metadata)


def volatility_agent(inp: DecisionInput) -> AgentVote | None:
    """How favourable volatility is for buying premium; omitted while IV rank is unknown."""
    if inp.market.iv_rank is None:
        return None
    iv_rank = float(inp.market.iv_rank)
    confidence = 50
    reasons = []
    if iv_rank <= 30:
        confidence += 15
        reasons.append("iv_rank_low_premium_cheap")
    elif iv_rank >= 70:
        confidence -= 15
        reasons.append("iv_rank_high_premium_rich")
    else:
        reasons.append("iv_rank_mid")
    bbw_pct = volatility_stats(inp.market.candles).bbw_percentile
    if bbw_pct is not None and bbw_pct < 10:
        confidence += 10
        reasons.append("bands_squeezed_breakout_potential")
    elif bbw_pct is not None and bbw_pct > 90:
        confidence -= 10
        reasons.append("bands_extended")
    price = float(inp.market.price)
    atr14 = inp.market.indicators.atr14
    if atr14 is not None and price > 0 and atr14 / price * 100 > 3:
        confidence -= 10
        reasons.append("realized_volatility_above_3pct")
    metadata = {"iv_rank": str(inp.market.iv_rank), "bbw_percentile": None if bbw_pct is None else round(bbw_pct, 1)}
    return AgentVote("volatility", CORE, NEUTRAL, clamp(confidence, 15, 85), tuple(reasons), metadata=metadata)
