"""Specialist agents: dealer gamma + flow, opening-range breakout, The Strat, TTM squeeze (§5.9).

Pure. Fixes relative to the reference (orchestrator §9.1 item 13):
- ORB reads TODAY's opening range — the three 5m candles starting 09:30, 09:35 and 09:40 New
  York — instead of the first five fetched candles, and its window is New York wall-clock time
  (DST-correct) instead of a fixed 13:30–14:00 UTC. Any symbol, not just SPY/QQQ/SPX.
- Strat classifies the bar before last as the setup bar and the last bar as the trigger, so
  patterns whose setup ends in an inside bar (2-1-2, 3-1-2) can trigger. The reference
  classified the last bar as the inside bar, so those patterns never had a direction.
- Strat also names a plain 2-2 reversal (a directional bar broken the other way by the next bar,
  not after an outside bar); the reference had no 2-2, its confidences 60/40 are ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal

from optionsengine.lib.market_calendar import MARKET_TZ, is_regular_hours, market_date, regular_session
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.types import Candle
from signals_app.engines.agents.common import signal_bias
from signals_app.engines.outcome import BEARISH, BULLISH, NEUTRAL, SPECIALIST, AgentVote
from signals_app.engines.snapshot import DecisionInput

# --- gamma + flow ------------------------------------------------------------------------------


def gamma_flow_agent(inp: DecisionInput) -> AgentVote | None:
    """+1/−1 for the sign of net GEX, +1/−1 for call vs put contracts traded; bias by the sum."""
    gex, flow = inp.market.gex, inp.market.flow
    entries = flow.entries if flow is not None else ()
    if gex is None and not entries:
        return None
    score = 0
    reasons = []
    metadata: dict = {}
    if gex is not None:
        sign = (gex.net_gex > 0) - (gex.net_gex < 0)
        score += sign
        reasons.append({1: "net_gex_positive", -1: "net_gex_negative", 0: "net_gex_flat"}[sign])
        metadata["net_gex"] = str(gex.net_gex)
    if entries:
        calls = sum(e.size for e in entries if e.contract.right is OptionRight.CALL)
        puts = sum(e.size for e in entries if e.contract.right is OptionRight.PUT)
        score += (calls > puts) - (calls < puts)
        reasons.append("call_volume_leads" if calls > puts else "put_volume_leads" if puts > calls else "flow_balanced")
        metadata.update(call_volume=calls, put_volume=puts)
    bias = BULLISH if score > 0 else BEARISH if score < 0 else NEUTRAL
    metadata["score"] = score
    return AgentVote("gamma_flow", SPECIALIST, bias, min(90, 45 + 20 * abs(score)), tuple(reasons), metadata=metadata)


# --- opening-range breakout --------------------------------------------------------------------

ORB_BAR = timedelta(minutes=5)
ORB_BARS = 3  # 15 minutes of 5m candles from the open
ORB_CUTOFF = time(11, 30)  # New York; later breakouts are no longer opening-range trades


def opening_range(candles_5m: Sequence[Candle], opens_at: datetime) -> tuple[Decimal, Decimal] | None:
    """(high, low) of the first 15 minutes from `opens_at`; None unless all three 5m bars exist."""
    starts = [opens_at + i * ORB_BAR for i in range(ORB_BARS)]
    bars = [c for c in candles_5m if c.start in starts]
    if sorted(c.start for c in bars) != starts:
        return None
    return max(c.high for c in bars), min(c.low for c in bars)


def orb_specialist(inp: DecisionInput) -> AgentVote | None:
    """Price beyond today's opening range; active from the range's completion until 11:30 New York."""
    now = inp.now
    day = market_date(now)
    session = regular_session(day)
    if session is None or not is_regular_hours(now):
        return None
    opens_at = session[0]
    range_complete = opens_at + ORB_BARS * ORB_BAR
    if not range_complete <= now < datetime.combine(day, ORB_CUTOFF, tzinfo=MARKET_TZ):
        return None
    found = opening_range(inp.market.mtf_candles.get("5m", ()), opens_at)
    if found is None:
        return None
    high, low = found
    metadata = {"orb_high": str(high), "orb_low": str(low), "price": str(inp.market.price)}
    if inp.market.price > high:
        return AgentVote("orb_specialist", SPECIALIST, BULLISH, 80, ("above_opening_range",), metadata=metadata)
    if inp.market.price < low:
        return AgentVote("orb_specialist", SPECIALIST, BEARISH, 80, ("below_opening_range",), metadata=metadata)
    return AgentVote("orb_specialist", SPECIALIST, NEUTRAL, 40, ("inside_opening_range",), metadata=metadata)


# --- The Strat ---------------------------------------------------------------------------------

INSIDE, DIRECTIONAL, OUTSIDE = 1, 2, 3
# (bar type of the bar before the setup, setup bar type) → pattern name.
_PATTERNS = {(DIRECTIONAL, INSIDE): "2-1-2", (OUTSIDE, INSIDE): "3-1-2", (OUTSIDE, DIRECTIONAL): "3-2-2"}
# pattern → (confidence when the trigger agrees with the signal, when it does not).
STRAT_CONFIDENCE = {"2-1-2": (75, 25), "3-1-2": (70, 30), "3-2-2": (65, 35), "2-2": (60, 40)}


def bar_type(bar: Candle, previous: Candle) -> int:
    """1 inside, 2 directional (broke one side), 3 outside (broke both sides)."""
    broke_high, broke_low = bar.high > previous.high, bar.low < previous.low
    return OUTSIDE if broke_high and broke_low else DIRECTIONAL if broke_high or broke_low else INSIDE


def break_direction(trigger: Candle, setup: Candle) -> str | None:
    """The side of the setup bar the trigger broke; an outside trigger counts where it closed."""
    up, down = trigger.high > setup.high, trigger.low < setup.low
    if up and down:
        return BULLISH if trigger.close > setup.high else BEARISH if trigger.close < setup.low else None
    return BULLISH if up else BEARISH if down else None


def _pattern(candles: Sequence[Candle], direction: str | None) -> str | None:
    before, setup = candles[-3], candles[-2]
    setup_type = bar_type(setup, before)
    prior_type = bar_type(before, candles[-4]) if len(candles) >= 4 else None
    name = _PATTERNS.get((prior_type, setup_type))
    if name is None and setup_type == DIRECTIONAL and direction is not None:
        setup_direction = BULLISH if setup.high > before.high else BEARISH
        name = "2-2" if direction != setup_direction else None
    return name


def strat_specialist(inp: DecisionInput) -> AgentVote | None:
    """Strat pattern on the signal timeframe: bars [-3], [-2] set up, bar [-1] triggers."""
    candles = inp.market.candles
    if len(candles) < 3:
        return None
    trigger, setup = candles[-1], candles[-2]
    direction = break_direction(trigger, setup)
    pattern = _pattern(candles, direction)
    if pattern is None:
        # A directional or outside bar followed by an inside bar is a setup whose trigger is to come.
        setup_type = bar_type(setup, candles[-3])
        if bar_type(trigger, setup) == INSIDE and setup_type != INSIDE:
            return AgentVote("strat_specialist", SPECIALIST, NEUTRAL, 30, (f"setup_{setup_type}-1_awaiting_trigger",))
        return AgentVote("strat_specialist", SPECIALIST, NEUTRAL, 25, ("no_pattern",))
    if direction is None:
        return AgentVote("strat_specialist", SPECIALIST, NEUTRAL, 30, (f"setup_{pattern}_without_trigger",))
    aligned, misaligned = STRAT_CONFIDENCE[pattern]
    agrees = direction == signal_bias(inp.signal.direction)
    reasons = (f"strat_{pattern}_{direction}", "agrees_with_signal" if agrees else "opposes_signal")
    confidence = aligned if agrees else misaligned
    return AgentVote("strat_specialist", SPECIALIST, direction, confidence, reasons, metadata={"pattern": pattern})


# --- TTM squeeze -------------------------------------------------------------------------------


def ttm_specialist(inp: DecisionInput) -> AgentVote | None:
    """The squeeze just fired and momentum points the signal's way; otherwise not activated."""
    ind = inp.market.indicators
    if ind.ttm_fired is not True or ind.ttm_momentum is None:
        return None
    wanted = signal_bias(inp.signal.direction)
    momentum = BULLISH if ind.ttm_momentum > 0 else BEARISH if ind.ttm_momentum < 0 else NEUTRAL
    if momentum != wanted:
        return None
    return AgentVote(
        "ttm_specialist",
        SPECIALIST,
        wanted,
        70,
        ("squeeze_fired", f"momentum_{momentum}"),
        metadata={"momentum": round(ind.ttm_momentum, 4)},
    )
