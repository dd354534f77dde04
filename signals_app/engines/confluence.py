"""Flow × gamma confluence: does options flow and dealer gamma back the signal? (reference §2.6).

Pure. Four factor scores (0–100) are weighted into one score; the score gates the signal and picks
a sizing tier whose multiplier (Decimal, applied to contracts) the sizing stage uses.

Fixed from the reference: with no GEX and no flow (a data outage) it scored a neutral 49, so every
signal was rejected. Now an outage yields no score, a passing gate and half size ("unknown"), and a
single missing input counts as neutral (flow strength 50, not the 40 of a genuinely empty tape).
"""

from __future__ import annotations

import math
from decimal import Decimal

from optionsengine.marketdata.types import DealerPosition, GexSnapshot, OptionsFlow
from signals_app.engines.outcome import BEARISH, BULLISH, NEUTRAL
from signals_app.engines.snapshot import LONG, SHORT, Confluence

# Weights in percent of the score (sum 100), as the reference.
FLOW_GAMMA_WEIGHT = 30
SIGNAL_FLOW_WEIGHT = 35
SIGNAL_GAMMA_WEIGHT = 25
FLOW_STRENGTH_WEIGHT = 10

# (minimum score, tier, contract multiplier), best first.
TIERS = (
    (70, "full", Decimal("1")),
    (55, "half", Decimal("0.5")),
    (45, "quarter", Decimal("0.25")),
)
NO_TIER = ("none", Decimal("0"))
UNKNOWN_TIER = ("unknown", Decimal("0.5"))  # outage: trade, but at half size

NEUTRAL_SCORE = 50
EMPTY_FLOW_STRENGTH = 40  # the tape answered and nothing traded: weak evidence
MAX_FLOW_STRENGTH = 80


def flow_direction(flow: OptionsFlow | None) -> str:
    """Bullish/bearish by the sign of the net premium (bought calls + sold puts − the opposite)."""
    if flow is None:
        return NEUTRAL
    net = flow.net_premium
    return BULLISH if net > 0 else BEARISH if net < 0 else NEUTRAL


def gamma_regime(gex: GexSnapshot | None) -> DealerPosition:
    return DealerPosition.NEUTRAL if gex is None else gex.dealer_position


def _flow_gamma(flow: str, regime: DealerPosition) -> int:
    # The reference's table, kept as it is (its bull/bear asymmetry is reported to the lead, not guessed at).
    if (flow, regime) in ((BULLISH, DealerPosition.SHORT_GAMMA), (BEARISH, DealerPosition.LONG_GAMMA)):
        return 90
    if (flow, regime) in ((BULLISH, DealerPosition.LONG_GAMMA), (BEARISH, DealerPosition.SHORT_GAMMA)):
        return 60
    return NEUTRAL_SCORE


def _signal_flow(direction: str, flow: str) -> int:
    if flow == NEUTRAL:
        return NEUTRAL_SCORE
    aligned = (direction == LONG) == (flow == BULLISH)
    return 90 if aligned else 30


def _signal_gamma(direction: str, regime: DealerPosition) -> int:
    if regime is DealerPosition.NEUTRAL:
        return NEUTRAL_SCORE
    # Long into short gamma or short into long gamma scores highest, as in the reference.
    opposite = (direction == LONG) == (regime is DealerPosition.SHORT_GAMMA)
    return 90 if opposite else 60


def _flow_strength(flow: OptionsFlow | None) -> float:
    """More prints, more conviction, on a log scale capped at 80 (≈ 100 entries)."""
    if flow is None:
        return NEUTRAL_SCORE
    if not flow.entries:
        return EMPTY_FLOW_STRENGTH
    return min(MAX_FLOW_STRENGTH, 50 + 15 * math.log10(len(flow.entries) + 1))


def sizing_tier(score: int) -> tuple[str, Decimal]:
    """(tier, contract multiplier) for a confluence score: ≥70 full, ≥55 half, ≥45 quarter, else none."""
    return next(((name, mult) for minimum, name, mult in TIERS if score >= minimum), NO_TIER)


def compute_confluence(
    direction: str,
    gex: GexSnapshot | None,
    flow: OptionsFlow | None,
    *,
    threshold: float = 50,
    gate_enabled: bool = True,
) -> Confluence:
    """Score 0–100 and sizing tier for a long/short signal; `passes` is the confluence gate."""
    if direction not in (LONG, SHORT):
        raise ValueError(f"direction must be {LONG!r} or {SHORT!r}, got {direction!r}")
    if gex is None and flow is None:
        tier, multiplier = UNKNOWN_TIER
        note = "no GEX and no options flow (data outage): gate skipped, half size"
        return Confluence(score=None, tier=tier, multiplier=multiplier, passes=True, factors={"note": note})

    flow_dir, regime = flow_direction(flow), gamma_regime(gex)
    factors = {
        "flow_direction": flow_dir,
        "gamma_regime": regime.value,
        "flow_gamma": _flow_gamma(flow_dir, regime),
        "signal_flow": _signal_flow(direction, flow_dir),
        "signal_gamma": _signal_gamma(direction, regime),
        "flow_strength": _flow_strength(flow),
    }
    weighted = (
        FLOW_GAMMA_WEIGHT * factors["flow_gamma"]
        + SIGNAL_FLOW_WEIGHT * factors["signal_flow"]
        + SIGNAL_GAMMA_WEIGHT * factors["signal_gamma"]
        + FLOW_STRENGTH_WEIGHT * factors["flow_strength"]
    ) / 100
    # Half up, like the reference's Math.round (Python's round() sends 44.5 to 44). The factor ranges
    # keep the score within 42–89; the clamp states the 0–100 contract.
    score = min(100, max(0, math.floor(weighted + 0.5)))
    if gex is None or flow is None:
        factors["note"] = f"no {'GEX' if gex is None else 'options flow'}: counted as neutral"
    tier, multiplier = sizing_tier(score)
    return Confluence(
        score=score, tier=tier, multiplier=multiplier, passes=score >= threshold or not gate_enabled, factors=factors
    )
