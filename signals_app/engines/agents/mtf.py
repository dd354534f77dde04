"""The multi-timeframe trend agent (reference §5.8 "Multi-timeframe data", §5.9 mtf_trend).

Pure. Each of 5m, 15m, 1h, 4h and 1d with at least 21 candles is "up" when its last close is
more than 0.15 % above its EMA21, "down" when more than 0.15 % below, else flat. The EMA here is
seeded with the first close, as the reference specifies for this agent; `indicators.ema` seeds
with an SMA of the first 21 closes, which with only 21–50 candles would give different trends.
"""

from __future__ import annotations

from collections.abc import Sequence

from optionsengine.marketdata.types import Candle
from signals_app.engines.agents.common import clamp, round_half_up, signal_bias
from signals_app.engines.outcome import BEARISH, BULLISH, CORE, NEUTRAL, AgentVote
from signals_app.engines.snapshot import MTF_TIMEFRAMES, DecisionInput

# Longer frames carry more weight: they describe the trend the trade has to live inside.
FRAME_WEIGHTS = dict(zip(MTF_TIMEFRAMES, (0.10, 0.15, 0.25, 0.25, 0.25), strict=True))
EMA_PERIOD = 21
TREND_BAND = 0.0015  # 0.15 % of the EMA
ALL_AGREE_CONFIDENCE = 80
DIRECTIONAL_NORM = 0.3  # |weighted trend| above this is a directional call
MIXED_CAP = 55  # frames pointing both ways
OPPOSES_SIGNAL_PENALTY = 15
OPPOSES_SIGNAL_FLOOR = 20
_TREND_NAMES = {1: "up", -1: "down", 0: "flat"}


def frame_trend(candles: Sequence[Candle]) -> int | None:
    """+1 up, −1 down, 0 flat; None with fewer than 21 candles."""
    if len(candles) < EMA_PERIOD:
        return None
    closes = [float(c.close) for c in candles]
    alpha = 2 / (EMA_PERIOD + 1)
    ema = closes[0]
    for close in closes[1:]:
        ema += alpha * (close - ema)
    change = (closes[-1] - ema) / ema
    return 1 if change > TREND_BAND else -1 if change < -TREND_BAND else 0


def mtf_trend_agent(inp: DecisionInput) -> AgentVote | None:
    """Weighted agreement of the frames' trends; omitted when no frame has 21 candles."""
    trends = {}
    for frame in MTF_TIMEFRAMES:
        trend = frame_trend(inp.market.mtf_candles.get(frame, ()))
        if trend is not None:
            trends[frame] = trend
    if not trends:
        return None
    norm = sum(FRAME_WEIGHTS[f] * t for f, t in trends.items()) / sum(FRAME_WEIGHTS[f] for f in trends)
    step = round_half_up(100 / len(trends))
    alignment = max(-100, min(100, sum(t * step for t in trends.values())))
    values = set(trends.values())
    reasons = [f"{frame}_{_TREND_NAMES[t]}" for frame, t in trends.items()]
    if values in ({1}, {-1}):
        bias = BULLISH if values == {1} else BEARISH
        confidence = float(ALL_AGREE_CONFIDENCE)
        reasons.append("all_frames_agree")
    elif abs(norm) > DIRECTIONAL_NORM:
        bias = BULLISH if norm > 0 else BEARISH
        confidence = 55 + 25 * abs(norm)
    else:
        bias, confidence = NEUTRAL, 50.0
    if {1, -1} <= values:
        confidence = min(confidence, MIXED_CAP)
        reasons.append("frames_mixed")
    if bias not in (NEUTRAL, signal_bias(inp.signal.direction)):
        confidence = max(OPPOSES_SIGNAL_FLOOR, confidence - OPPOSES_SIGNAL_PENALTY)
        reasons.append("opposes_signal")
    metadata = {"trends": trends, "weighted_trend": round(norm, 4), "alignment_score": alignment}
    return AgentVote("mtf_trend", CORE, bias, clamp(confidence, 15, 90), tuple(reasons), metadata=metadata)
