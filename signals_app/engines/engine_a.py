"""Engine A: the tiered entry rules (reference orchestrator §5.3–5.5, fixed per §9.1).

Pure: a function of the frozen `DecisionInput` and the contract `contract_selection` chose.
Tier 1 blocks (every triggered rule is named in `entry_tier_block:<RULE>,...`), tier 2 waits
(`entry_wait`, the orchestrator re-checks later), tier 3 enters. Gates that the orchestrator runs
once per signal (bias, portfolio guard, setup validator, drawdown, greek exposure) and the
position-count and daily-loss limits (deferred/rejected before the engines, SPEC §6) are not here.

Decisions where the reference was wrong or silent:
- Confidence is read as 0–100. A fraction such as 0.8 is *not* rescaled: 1 would be ambiguous
  (1 % or 100 %), and alerts in this service send 0–100, so 0.8 is treated as 0.8 and blocks.
- The regime comes only from the bias state (TREND + BULLISH → BULL, TREND + BEARISH → BEAR);
  dealer gamma says nothing about direction. Without a regime the rule cannot fire.
- Unknown IV rank skips the volatility band; bands are inclusive at both ends.
- Unknown spread or open interest is not evaluated (no liquidity data is not "illiquid");
  a bid of 0 is data, and its spread makes the contract ILLIQUID.
- Timing windows are half-open: [open, open + 15 min), [close − 15 min, close) with that day's
  close (13:00 on early-close days), and [12:00, 13:00) New York for SCALP. Outside the regular
  session the rule does not apply: market-closed handling belongs to the orchestrator.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from optionsengine.lib import market_calendar
from optionsengine.lib.money import CONTRACT_MULTIPLIER, to_decimal, to_decimal_or_none
from optionsengine.marketdata.types import DealerPosition
from signals_app.engines.outcome import (
    BEARISH,
    BULLISH,
    CORE,
    ENTER,
    HOLD,
    NEUTRAL,
    WAIT,
    AgentVote,
    ContractChoice,
    EngineDecision,
)
from signals_app.engines.paths import dig as _lookup
from signals_app.engines.reasons import ENTRY_TIER_BLOCK, ENTRY_WAIT, with_details
from signals_app.engines.snapshot import LEAPS, LONG, POSITION, SCALP, SWING, DecisionInput, OpenPosition

ENGINE = "A"
AGENT_NAME = "engine_a_entry_decision"

DEFAULT_CONFIDENCE = Decimal(70)
CONFIDENCE_KEYS = ("confidence", "score", "signal.confidence", "meta.confidence")
MIN_CONFIDENCE = {SCALP: Decimal(65), SWING: Decimal(60), POSITION: Decimal(55), LEAPS: Decimal(50)}
# Inclusive IV-rank bands (0–100) per setup type.
IV_BANDS = {
    SCALP: (Decimal(25), Decimal(80)),
    SWING: (Decimal(20), Decimal(85)),
    POSITION: (Decimal(15), Decimal(90)),
    LEAPS: (Decimal(10), Decimal(95)),
}
# Portfolio greeks in share-equivalents: Σ greek per share × contracts × 100.
MAX_PORTFOLIO_DELTA = Decimal(400)
MAX_PORTFOLIO_THETA = Decimal(250)  # USD of decay per day

ILLIQUID, LOW, NORMAL = "ILLIQUID", "LOW", "NORMAL"
ILLIQUID_SPREAD_PCT, ILLIQUID_MIN_OI = Decimal(15), 50
LOW_SPREAD_PCT, LOW_MIN_OI = Decimal(8), 200
ALLOWED_LIQUIDITY = {SCALP: {NORMAL}, SWING: {NORMAL, LOW}, POSITION: {NORMAL, LOW}, LEAPS: {NORMAL, LOW}}

# Net GEX (USD per 1 % move) beyond which dealer hedging pins price against the trade.
GEX_RESISTANCE_USD = Decimal("1e9")
TIMING_BUFFER = timedelta(minutes=15)
LUNCH = (time(12, 0), time(13, 0))  # New York

LOW_SIGNAL_CONFIDENCE = "LOW_SIGNAL_CONFIDENCE"
REGIME_CONFLICT = "REGIME_CONFLICT"
VOLATILITY_MISMATCH = "VOLATILITY_MISMATCH"
PORTFOLIO_DELTA_LIMIT = "PORTFOLIO_DELTA_LIMIT"
PORTFOLIO_THETA_LIMIT = "PORTFOLIO_THETA_LIMIT"
UNSAFE_LIQUIDITY = "UNSAFE_LIQUIDITY"
GEX_RESISTANCE = "GEX_RESISTANCE"
UNFAVORABLE_TIMING = "UNFAVORABLE_TIMING"
ALL_PASSED = "all tier rules passed"



def signal_confidence(payload: Mapping) -> Decimal:
    """The first numeric of `confidence`, `score`, `signal.confidence`, `meta.confidence`, clamped 0–100."""
    for key in CONFIDENCE_KEYS:
        value = to_decimal_or_none(_lookup(payload, key))
        if value is not None:
            return min(Decimal(100), max(Decimal(0), value))
    return DEFAULT_CONFIDENCE


def bias_regime(bias_state: Mapping | None) -> str | None:
    """BULL / BEAR when the bias state is trending with a directional consensus, else None."""
    if not bias_state or bias_state.get("regimeType") != "TREND":
        return None
    return {"BULLISH": "BULL", "BEARISH": "BEAR"}.get(bias_state.get("bias"))


def _greek_total(positions: tuple[OpenPosition, ...], greek: str) -> Decimal:
    """Σ greek × contracts × 100 over positions whose entry greeks carry that value."""
    total = Decimal(0)
    for position in positions:
        per_share = to_decimal_or_none((position.greeks_at_entry or {}).get(greek))
        if per_share is not None:
            total += per_share * position.quantity * CONTRACT_MULTIPLIER
    return total


def liquidity_state(spread_pct: Decimal | None, open_interest: int | None) -> str | None:
    """ILLIQUID / LOW / NORMAL from whichever of spread % and open interest is known; None if neither."""
    if spread_pct is None and open_interest is None:
        return None
    wide = spread_pct is not None and spread_pct > ILLIQUID_SPREAD_PCT
    if wide or (open_interest is not None and open_interest < ILLIQUID_MIN_OI):
        return ILLIQUID
    wide = spread_pct is not None and spread_pct > LOW_SPREAD_PCT
    if wide or (open_interest is not None and open_interest < LOW_MIN_OI):
        return LOW
    return NORMAL


def _contract_liquidity(contract: ContractChoice | str) -> str | None:
    if not isinstance(contract, ContractChoice):
        return None
    spread = contract.rationale.get("spread_pct")
    return liquidity_state(None if spread is None else to_decimal(spread), contract.rationale.get("open_interest"))


def timing_window(now: datetime, setup_type: str) -> str | None:
    """Why `now` is a poor moment to enter (opening / closing / lunch window), or None."""
    day = market_calendar.market_date(now)
    session = market_calendar.regular_session(day)
    if session is None or not session[0] <= now < session[1]:
        return None
    opens, closes = session
    if now < opens + TIMING_BUFFER:
        return "opening 15 minutes"
    if now >= closes - TIMING_BUFFER:
        return "closing 15 minutes"
    local = now.astimezone(market_calendar.MARKET_TZ).time()
    if setup_type == SCALP and LUNCH[0] <= local < LUNCH[1]:
        return "SCALP during New York lunch"
    return None


def _tier1(inp: DecisionInput, confidence: Decimal, contract: ContractChoice | str, facts: dict) -> list[str]:
    setup, is_call = inp.setup_type, inp.signal.direction == LONG
    rules: list[str] = []
    if confidence < MIN_CONFIDENCE[setup]:
        rules.append(LOW_SIGNAL_CONFIDENCE)
    regime = facts["regime"] = bias_regime(inp.bias_state)
    if (is_call and regime == "BEAR") or (not is_call and regime == "BULL"):
        rules.append(REGIME_CONFLICT)
    iv_rank = inp.market.iv_rank
    facts["iv_rank"] = None if iv_rank is None else str(iv_rank)
    low, high = IV_BANDS[setup]
    if iv_rank is not None and not low <= iv_rank <= high:
        rules.append(VOLATILITY_MISMATCH)
    delta = _greek_total(inp.portfolio.positions, "delta")
    theta = _greek_total(inp.portfolio.positions, "theta")
    facts["portfolio_delta"], facts["portfolio_theta"] = str(delta), str(theta)
    if abs(delta) >= MAX_PORTFOLIO_DELTA:
        rules.append(PORTFOLIO_DELTA_LIMIT)
    if abs(theta) >= MAX_PORTFOLIO_THETA:
        rules.append(PORTFOLIO_THETA_LIMIT)
    liquidity = facts["liquidity"] = _contract_liquidity(contract)
    if liquidity is not None and liquidity not in ALLOWED_LIQUIDITY[setup]:
        rules.append(UNSAFE_LIQUIDITY)
    return rules


def _tier2(inp: DecisionInput, facts: dict) -> list[str]:
    rules: list[str] = []
    gex, is_call = inp.market.gex, inp.signal.direction == LONG
    # "HIGH" needs both a large net figure and dealers classified on that side: a big net number
    # that is small against gross gamma (dealer position neutral) does not pin price.
    if gex is not None and (
        (is_call and gex.net_gex > GEX_RESISTANCE_USD and gex.dealer_position is DealerPosition.LONG_GAMMA)
        or (not is_call and gex.net_gex < -GEX_RESISTANCE_USD and gex.dealer_position is DealerPosition.SHORT_GAMMA)
    ):
        rules.append(GEX_RESISTANCE)
    if not inp.signal.is_test:
        window = facts["timing"] = timing_window(inp.now, inp.setup_type)
        if window is not None:
            rules.append(UNFAVORABLE_TIMING)
    return rules


def decide_engine_a(inp: DecisionInput, contract: ContractChoice | str) -> EngineDecision:
    """Tier 1 → HOLD `entry_tier_block:<RULES>`; tier 2 → WAIT `entry_wait`; else ENTER (or HOLD with
    the contract's reason code when no contract could be chosen). Quantity is left to sizing."""
    if inp.setup_type not in MIN_CONFIDENCE:
        raise ValueError(f"unknown setup type {inp.setup_type!r}")
    confidence = signal_confidence(inp.signal.payload)
    facts: dict = {"confidence": str(confidence), "setup_type": inp.setup_type}
    blocks = _tier1(inp, confidence, contract, facts)
    waits = [] if blocks else _tier2(inp, facts)
    if blocks:
        tier, rules, decision, reason = 1, blocks, HOLD, with_details(ENTRY_TIER_BLOCK, blocks)
    elif waits:
        tier, rules, decision, reason = 2, waits, WAIT, ENTRY_WAIT
    elif isinstance(contract, str):
        tier, rules, decision, reason = 3, [], HOLD, contract
    else:
        tier, rules, decision, reason = 3, [], ENTER, None
    entering = decision == ENTER
    vote = AgentVote(
        agent_name=AGENT_NAME,
        agent_type=CORE,
        bias=(BULLISH if inp.signal.direction == LONG else BEARISH) if entering else NEUTRAL,
        confidence=int(confidence.to_integral_value(rounding=ROUND_HALF_UP)) if entering else 0,
        reasons=tuple(rules) or ((ALL_PASSED, reason) if reason else (ALL_PASSED,)),
        block=bool(blocks),
        metadata={"tier": tier, "rules": rules, "setup_type": inp.setup_type},
    )
    return EngineDecision(
        engine=ENGINE,
        decision=decision,
        reason=reason,
        contract=contract if entering else None,
        votes=(vote,),
        rationale={**facts, "tier": tier, "rules": rules},
    )
