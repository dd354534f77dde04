"""The technical agent: eight weighted indicator readings → one directional vote (reference §5.9).

Pure. Each reading has a bias and a strength 0–100 (how strongly it supports that bias).

Fixes and decisions relative to the reference:
- Confidence measures the winning side: readings on that side count their strength, readings
  against it count 100 − strength. The reference scored bullishness, so a strong bearish setup
  came out with low confidence (orchestrator §9.1 item 13).
- Neutral readings count their own strength (default 50). The reference counted every neutral
  as 50, which made the volume reading (75/60/30) and the weak-ADX reading (30) dead: heavy
  volume now lifts confidence in whichever side wins, a trendless ADX lowers it.
- `net` is divided by the weight of the readings present, so a missing indicator does not pull
  the vote towards neutral (with all eight present the weights sum to 1 and nothing changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optionsengine.marketdata.types import Candle
from signals_app.engines.agents.common import clamp, opposite
from signals_app.engines.outcome import BEARISH, BULLISH, CORE, NEUTRAL, AgentVote
from signals_app.engines.snapshot import DecisionInput, Indicators

WEIGHTS = {
    "ema_stack": 0.20,
    "rsi": 0.15,
    "macd": 0.15,
    "vwap": 0.10,
    "volume": 0.10,
    "bollinger": 0.10,
    "adx": 0.10,
    "structure": 0.10,
}
NET_THRESHOLD = 0.15  # |net| above this is a directional call
DISSENT_LIMIT = 3  # this many readings against the winning side caps confidence
DISSENT_CAP = 45
MIN_CONFIDENCE, MAX_CONFIDENCE = 15, 90
VWAP_BAND = 0.002  # ±0.2 % around VWAP is "at VWAP"


@dataclass(frozen=True)
class Reading:
    name: str
    bias: str
    strength: int


def _ema_stack(ind: Indicators, price: float) -> Reading | None:
    if ind.ema8 is None or ind.ema21 is None:
        return None
    if None not in (ind.ema13, ind.ema48):
        if price > ind.ema8 > ind.ema13 > ind.ema21 > ind.ema48:
            return Reading("ema_stack", BULLISH, 85)
        if price < ind.ema8 < ind.ema13 < ind.ema21 < ind.ema48:
            return Reading("ema_stack", BEARISH, 85)
    if ind.ema8 == ind.ema21:
        return Reading("ema_stack", NEUTRAL, 50)
    return Reading("ema_stack", BULLISH if ind.ema8 > ind.ema21 else BEARISH, 70)


def _rsi(ind: Indicators) -> Reading | None:
    value = ind.rsi14
    if value is None:
        return None
    if value > 70:
        return Reading("rsi", BEARISH, 30)  # overbought: a weak case for a pullback
    if value < 30:
        return Reading("rsi", BULLISH, 30)
    if value >= 55:
        return Reading("rsi", BULLISH, 65)
    if value <= 45:
        return Reading("rsi", BEARISH, 65)
    return Reading("rsi", NEUTRAL, 50)


def _macd(ind: Indicators) -> Reading | None:
    hist, prev = ind.macd_hist, ind.macd_hist_prev
    if hist is None or prev is None:
        return None
    if hist > 0:
        return Reading("macd", BULLISH, 75 if hist > prev else 55)
    if hist < 0:
        return Reading("macd", BEARISH, 75 if hist < prev else 55)
    return Reading("macd", NEUTRAL, 50)


def _vwap(ind: Indicators, price: float) -> Reading | None:
    if ind.vwap is None or ind.vwap <= 0:
        return None
    deviation = (price - ind.vwap) / ind.vwap
    if deviation > VWAP_BAND:
        return Reading("vwap", BULLISH, 65)
    if deviation < -VWAP_BAND:
        return Reading("vwap", BEARISH, 65)
    return Reading("vwap", NEUTRAL, 50)


def _volume(ind: Indicators) -> Reading | None:
    """Participation confirms a move without choosing its direction."""
    ratio = ind.volume_ratio
    if ratio is None:
        return None
    return Reading("volume", NEUTRAL, 75 if ratio > 1.5 else 60 if ratio >= 1.0 else 30)


def _bollinger(ind: Indicators, price: float) -> Reading | None:
    if ind.bb_upper is None or ind.bb_lower is None or ind.bb_upper <= ind.bb_lower:
        return None
    position = (price - ind.bb_lower) / (ind.bb_upper - ind.bb_lower)
    if position > 0.9:
        return Reading("bollinger", BULLISH, 40)  # riding the upper band: bullish but stretched
    if position < 0.1:
        return Reading("bollinger", BEARISH, 40)
    return Reading("bollinger", BULLISH if position > 0.5 else BEARISH, 60)


def _adx(ind: Indicators) -> Reading | None:
    if ind.adx14 is None:
        return None
    if ind.adx14 < 15:
        return Reading("adx", NEUTRAL, 30)
    if ind.plus_di14 is None or ind.minus_di14 is None or ind.plus_di14 == ind.minus_di14:
        return Reading("adx", NEUTRAL, 50)
    by_di = BULLISH if ind.plus_di14 > ind.minus_di14 else BEARISH
    if ind.adx14 > 30:
        return Reading("adx", by_di, 75)
    if ind.adx14 > 20 and abs(ind.plus_di14 - ind.minus_di14) > 10:
        return Reading("adx", by_di, 60)
    return Reading("adx", NEUTRAL, 50)


def _structure(candles: Sequence[Candle]) -> Reading | None:
    """Higher highs and higher lows over the last three bars (or the mirror)."""
    if len(candles) < 3:
        return None
    a, b, c = candles[-3:]
    if a.high < b.high < c.high and a.low < b.low < c.low:
        return Reading("structure", BULLISH, 70)
    if a.high > b.high > c.high and a.low > b.low > c.low:
        return Reading("structure", BEARISH, 70)
    return Reading("structure", NEUTRAL, 50)


def _readings(inp: DecisionInput) -> list[Reading]:
    ind = inp.market.indicators
    price = float(inp.market.price)
    found = (
        _ema_stack(ind, price),
        _rsi(ind),
        _macd(ind),
        _vwap(ind, price),
        _volume(ind),
        _bollinger(ind, price),
        _adx(ind),
        _structure(inp.market.candles),
    )
    return [r for r in found if r is not None]


def technical_agent(inp: DecisionInput) -> AgentVote | None:
    """Weighted indicator vote; None when no indicator could be computed."""
    found = _readings(inp)
    if not found:
        return None
    total_weight = sum(WEIGHTS[r.name] for r in found)
    signed = {BULLISH: 1, BEARISH: -1, NEUTRAL: 0}
    net = sum(signed[r.bias] * WEIGHTS[r.name] * r.strength / 100 for r in found) / total_weight
    bias = BULLISH if net > NET_THRESHOLD else BEARISH if net < -NET_THRESHOLD else NEUTRAL
    # Confidence is scored for the side the readings lean to, even when too weak to call.
    side = bias if bias != NEUTRAL else (BULLISH if net >= 0 else BEARISH)
    against = opposite(side)
    score = sum(WEIGHTS[r.name] * (100 - r.strength if r.bias == against else r.strength) for r in found)
    confidence = score / total_weight
    dissent = sum(1 for r in found if r.bias == against)
    reasons = [f"{r.name}_{r.bias}_{r.strength}" for r in found]
    if dissent >= DISSENT_LIMIT:
        confidence = min(confidence, DISSENT_CAP)
        reasons.append(f"{dissent}_readings_against_{side}")
    metadata = {
        "net": round(net, 4),
        "readings": {r.name: {"bias": r.bias, "strength": r.strength} for r in found},
    }
    return AgentVote(
        "technical", CORE, bias, clamp(confidence, MIN_CONFIDENCE, MAX_CONFIDENCE), tuple(reasons), metadata=metadata
    )
