"""Core agents that read the session, dealer gamma and the chosen contract: context, risk, liquidity.

Pure. "Market open" means the New York regular session at `now` (the moment the trade would be
entered, so a signal released from the market-closed queue is judged at its release).
"""

from __future__ import annotations

from decimal import Decimal

from optionsengine.lib.market_calendar import is_regular_hours
from optionsengine.lib.money import to_decimal_or_none as _number
from optionsengine.marketdata.types import DealerPosition
from signals_app.engines.agents.common import clamp, minutes_to_close
from signals_app.engines.outcome import BEARISH, BULLISH, CORE, NEUTRAL, AgentVote, ContractChoice
from signals_app.engines.snapshot import DecisionInput

CLOSED_CONFIDENCE = 10
CLOSING_SOON_MINUTES = 15
CLOSING_SOON_CAP = 30

# Liquidity (reference §5.9 "designed" column). Spread in percent of mid; OI and volume in contracts.
MAX_SPREAD_PCT = Decimal(15)
MIN_OPEN_INTEREST = 10
MIN_LIQUIDITY_SCORE = 20
# name → (points, steps, lower_is_better); a step is (bound, share of the points), best first:
# a spread at or under the bound, or OI/volume at or over it, earns that share.
_COMPONENTS = {
    "spread_pct": (40, ((2, 1.0), (5, 0.75), (10, 0.4), (MAX_SPREAD_PCT, 0.1)), True),
    "open_interest": (35, ((1000, 1.0), (100, 0.7), (MIN_OPEN_INTEREST, 0.3)), False),
    "volume": (25, ((500, 1.0), (50, 0.6), (1, 0.3)), False),
}


def _base_confidence(atr: float | None, price: float) -> tuple[int, str]:
    """Calmer markets earn more confidence: ATR above 2.5 % / 1.5 % of price → 30 / 40, else 60."""
    if atr is None or price <= 0:
        return 60, "atr_unavailable"
    atr_pct = atr / price * 100
    if atr_pct > 2.5:
        return 30, "atr_above_2_5pct"
    if atr_pct > 1.5:
        return 40, "atr_above_1_5pct"
    return 60, "atr_calm"


def context_agent(inp: DecisionInput) -> AgentVote:
    """Session and dealer-gamma context: mean reversion under long gamma, trend under short gamma.

    The reference also capped confidence when the GEX feed said "compressed"; our GEX snapshot
    carries no volatility expectation, so that rule is not applied rather than guessed. Its caps
    of 65 (long gamma) and 85 (short gamma) are not kept either: the base confidence is at most
    60, so they could never bind.
    """
    if not is_regular_hours(inp.now):
        return AgentVote("context", CORE, NEUTRAL, CLOSED_CONFIDENCE, ("market_closed",))
    price = float(inp.market.price)
    ind = inp.market.indicators
    confidence, atr_reason = _base_confidence(ind.atr14, price)
    reasons = [atr_reason]
    bias = NEUTRAL
    gex = inp.market.gex
    if gex is None:
        reasons.append("gex_unavailable")
    else:
        if gex.zero_gamma_level is not None and price > 0:
            distance_pct = abs(price - float(gex.zero_gamma_level)) / price * 100
            if distance_pct < 0.5:
                reasons.append("within_0_5pct_of_zero_gamma")
            elif distance_pct < 1:
                reasons.append("within_1pct_of_zero_gamma")
        if gex.dealer_position is DealerPosition.LONG_GAMMA and ind.ema21 is not None:
            # Dealers hedging long gamma sell rallies and buy dips: fade the move away from EMA21.
            bias = BEARISH if price > ind.ema21 else BULLISH
            reasons.append("long_gamma_mean_reversion")
        elif gex.dealer_position is DealerPosition.SHORT_GAMMA and None not in (ind.ema8, ind.ema21):
            # Short-gamma hedging chases the move: follow the fast EMA against the slow one.
            if ind.ema8 != ind.ema21:
                bias = BULLISH if ind.ema8 > ind.ema21 else BEARISH
            reasons.append("short_gamma_trend_following")
        else:
            reasons.append(f"dealer_{gex.dealer_position.value}")
    remaining = minutes_to_close(inp.now)
    if remaining is not None and remaining < CLOSING_SOON_MINUTES:
        confidence = min(confidence, CLOSING_SOON_CAP)
        reasons.append("closing_within_15_minutes")
    return AgentVote("context", CORE, bias, clamp(confidence), tuple(reasons))


def risk_agent(inp: DecisionInput) -> AgentVote:
    """Veto a closed session (tests bypass market hours). Position counts were already checked
    by the orchestrator's gates, so they are not re-checked here."""
    if is_regular_hours(inp.now):
        return AgentVote("risk", CORE, NEUTRAL, 50, ("market_open",))
    if inp.signal.is_test:
        return AgentVote("risk", CORE, NEUTRAL, 50, ("test_signal_bypasses_market_hours",))
    return AgentVote("risk", CORE, NEUTRAL, 0, ("market_closed",), block=True)


def _points(name: str, value: Decimal) -> float:
    points, steps, lower_is_better = _COMPONENTS[name]
    for bound, share in steps:
        if (value <= bound) if lower_is_better else (value >= bound):
            return points * share
    return 0.0


def liquidity_agent(contract: ContractChoice | None) -> AgentVote | None:
    """Tradeability of the chosen contract from its real quote (spread, open interest, volume).

    Score 0–100 = points earned over points possible for the components the quote carries
    (spread 40, OI 35, volume 25), so a missing volume neither helps nor hurts. Blocks a spread of
    15 % or wider, OI under 10, or a score under 20. Omitted when neither spread nor OI is known.
    """
    if contract is None:
        return None
    values = {name: _number(contract.rationale.get(name)) for name in _COMPONENTS}
    if values["spread_pct"] is None and values["open_interest"] is None:
        return None
    known = {name: v for name, v in values.items() if v is not None}
    earned = sum(_points(name, v) for name, v in known.items())
    possible = sum(_COMPONENTS[name][0] for name in known)
    score = clamp(100 * earned / possible)
    reasons = []
    if values["spread_pct"] is not None and values["spread_pct"] >= MAX_SPREAD_PCT:
        reasons.append("spread_15pct_or_wider")
    if values["open_interest"] is not None and values["open_interest"] < MIN_OPEN_INTEREST:
        reasons.append("open_interest_below_10")
    if score < MIN_LIQUIDITY_SCORE:
        reasons.append("liquidity_score_below_20")
    metadata = {"score": score, **{name: None if v is None else str(v) for name, v in values.items()}}
    block = bool(reasons)
    return AgentVote("liquidity", CORE, NEUTRAL, score, tuple(reasons) or ("liquidity_ok",), block, metadata)
