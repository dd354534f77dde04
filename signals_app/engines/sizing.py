"""Position size: confluence tier × dealer gamma × bias risk model, each applied once (SPEC §6).

Pure. Reference orchestrator §6.1–6.3, with its bugs fixed:
- the dealer-gamma multiplier is applied once (the §6.3 "override" re-applied it and could flip
  direction; it never changes direction here) and with one convention (long gamma shrinks size);
- the risk model's macro and acceleration factors are aware of the trade's direction;
- the state's `effective.riskMultiplier` (macro conflict) is applied once, here, and staleness
  (`reduce_risk`) arrives as its own factor from the gates.

Reading of the `bias_config['risk']` keys for shorts (the seed only defined them for longs, and
halved an *aligned* short): `macroTrendDownShortMultiplier` is the "short against the macro
trend" penalty (short while MACRO_TREND_UP), and `macroTrendUpLongMultiplier` doubles as the
"with the macro trend" boost for shorts in MACRO_TREND_DOWN / MACRO_BREAKDOWN_CONFIRMED. A long in
MACRO_TREND_DOWN gets no macro factor, as in the seed (gating already suppresses bullish longs there).
The trend-alignment boost applies only when the trending bias points the trade's way: a long is
not sized up by a strongly aligned *bearish* trend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from bias_app.engines.config import merge_config
from optionsengine.lib.money import to_decimal
from optionsengine.lib.money import to_decimal_or_none as _number
from optionsengine.marketdata.types import DealerPosition, GexSnapshot
from signals_app.engines.setup_type import BREAKOUT
from signals_app.engines.snapshot import LONG, SHORT

ONE = Decimal(1)
RISK_FLOOR, RISK_CEILING = Decimal("0.25"), Decimal("1.5")
TREND_ALIGNMENT_MIN = Decimal(75)  # alignmentScore (0–100) above which a trend counts as aligned
STRENGTH_UP_DELTA = Decimal(15)  # biasScore points gained since the previous state, trade-signed
STRENGTH_DOWN_DELTA = Decimal(-20)
MACRO_DRIFT_HIGH = Decimal("0.15")  # macroDriftScore: size of the macro-confidence change (0–1)

# Dealer positioning (reference §2.9, second bullet): (multiplier, confidence, flow-agrees confidence).
GAMMA_POLICY: dict[DealerPosition, tuple[Decimal, Decimal, Decimal]] = {
    DealerPosition.SHORT_GAMMA: (Decimal("1.2"), Decimal("0.6"), Decimal("0.7")),
    DealerPosition.LONG_GAMMA: (Decimal("0.8"), Decimal("0.55"), Decimal("0.55")),
    DealerPosition.NEUTRAL: (Decimal("0.9"), Decimal("0.5"), Decimal("0.5")),
}
GAMMA_NOTES = {
    DealerPosition.SHORT_GAMMA: "dealers short gamma amplify moves: size up",
    DealerPosition.LONG_GAMMA: "dealers long gamma dampen moves: size down",
    DealerPosition.NEUTRAL: "no clear dealer positioning: size slightly down",
}


def _check_direction(direction: str) -> None:
    if direction not in (LONG, SHORT):
        raise ValueError(f"direction must be 'long' or 'short', not {direction!r}")


def _macro_factor(macro: object, direction: str) -> tuple[str, str] | None:
    """(config key, why) of the macro factor for this direction, or None."""
    if direction == LONG:
        if macro == "MACRO_BREAKDOWN_CONFIRMED":
            return "macroBreakdownLongMultiplier", "long against a confirmed macro breakdown"
        if macro == "MACRO_TREND_UP":
            return "macroTrendUpLongMultiplier", "long with the macro uptrend"
        return None
    if macro == "MACRO_TREND_UP":
        return "macroTrendDownShortMultiplier", "short against the macro uptrend"
    if macro in ("MACRO_TREND_DOWN", "MACRO_BREAKDOWN_CONFIRMED"):
        return "macroTrendUpLongMultiplier", f"short with {macro}"
    return None


def _factors(state: Mapping, direction: str, strategy_type: str) -> list[tuple[str, str]]:
    """(config key, why) for every risk-model factor that applies, each at most once."""
    factors: list[tuple[str, str]] = []
    macro = _macro_factor(state.get("macroClass"), direction)
    if macro:
        factors.append(macro)
    regime, alignment = state.get("regimeType"), _number(state.get("alignmentScore"))
    with_trend = state.get("bias") == ("BULLISH" if direction == LONG else "BEARISH")
    if regime == "RANGE" and strategy_type.upper() == BREAKOUT:
        factors.append(("rangeBreakoutMultiplier", "breakout in a range"))
    elif regime == "TREND" and with_trend and alignment is not None and alignment > TREND_ALIGNMENT_MIN:
        factors.append(("trendAlignmentMultiplier", f"aligned trend ({alignment})"))
    acceleration = state.get("acceleration") or {}
    raw_delta = _number(acceleration.get("stateStrengthDelta"))
    # A falling biasScore strengthens a short: sign the change to the trade's direction.
    delta = None if raw_delta is None else (raw_delta if direction == LONG else -raw_delta)
    if delta is not None and delta > STRENGTH_UP_DELTA:
        factors.append(("stateStrengthUpMultiplier", f"bias strengthening for the trade ({delta:+})"))
    elif delta is not None and delta < STRENGTH_DOWN_DELTA:
        factors.append(("stateStrengthDownMultiplier", f"bias weakening for the trade ({delta:+})"))
    drift = _number(acceleration.get("macroDriftScore"))
    if drift is not None and drift > MACRO_DRIFT_HIGH:
        factors.append(("macroDriftHighMultiplier", f"macro drift {drift}"))
    if state.get("trendPhase") == "LATE" and delta is not None and delta < 0:
        factors.append(("latePhaseNegativeMultiplier", "late trend phase losing strength"))
    return factors


def risk_multiplier(
    bias_state: Mapping | None,
    direction: str,
    strategy_type: str,
    risk_config: Mapping,
    staleness_multiplier: Decimal,
) -> tuple[Decimal, tuple[str, ...]]:
    """The bias risk model's size multiplier in [0.25, 1.5] and one note per factor applied.

    `risk_config` is the stored `bias_config['risk']` row (missing keys take the defaults);
    `staleness_multiplier` is the gates' factor (1 unless stale with `reduce_risk`).
    """
    _check_direction(direction)
    if bias_state is None:
        return ONE, ("no bias state: × 1",)
    config, problems = merge_config("risk", risk_config)
    result, notes = ONE, list(problems)
    for key, why in _factors(bias_state, direction, strategy_type):
        factor = to_decimal(config[key])
        result *= factor
        notes.append(f"{why}: × {factor}")
    effective = _number((bias_state.get("effective") or {}).get("riskMultiplier"))
    if effective is not None and effective != ONE:
        result *= effective
        notes.append(f"macro conflict (effective.riskMultiplier): × {effective}")
    if staleness_multiplier != ONE:
        result *= staleness_multiplier
        notes.append(f"stale bias state: × {staleness_multiplier}")
    clamped = min(RISK_CEILING, max(RISK_FLOOR, result))
    if clamped != result:
        notes.append(f"product {result} clamped to {clamped}")
    return clamped, tuple(notes)


def gamma_sizing(gex: GexSnapshot | None, flow_bullish: bool | None, direction: str) -> tuple[Decimal, Mapping]:
    """Dealer-positioning size multiplier and the `signals.meta_gamma` record (Decimals as strings).

    `flow_bullish` is the options-flow direction (None = neutral or unknown); flow agreeing with
    the trade only raises the recorded confidence, never the size.
    """
    _check_direction(direction)
    if gex is None:
        return ONE, {"regime": None, "multiplier": "1", "confidence": None, "note": "no GEX data: size unchanged"}
    multiplier, confidence, agreeing_confidence = GAMMA_POLICY[gex.dealer_position]
    flow_agrees = flow_bullish is not None and flow_bullish == (direction == LONG)
    regime = gex.dealer_position.name  # SHORT_GAMMA / LONG_GAMMA / NEUTRAL
    return multiplier, {
        "regime": regime,
        "multiplier": str(multiplier),
        "confidence": str(agreeing_confidence if flow_agrees else confidence),
        "flow_agrees": flow_agrees,
        "note": GAMMA_NOTES[gex.dealer_position],
    }


@dataclass(frozen=True)
class SizingStep:
    name: str  # base | confluence | gamma | risk | clamp
    multiplier: Decimal | None  # None for base and clamp
    quantity: int  # contracts after this step


@dataclass(frozen=True)
class Sizing:
    quantity: int  # contracts; 0 only when the confluence tier is 0 (no trade)
    steps: tuple[SizingStep, ...]

    def as_rationale(self) -> list[dict]:
        """JSON-storable steps for the recommendation's rationale."""
        return [
            {"step": s.name, "multiplier": None if s.multiplier is None else str(s.multiplier), "quantity": s.quantity}
            for s in self.steps
        ]


def _scaled(quantity: int, multiplier: Decimal) -> int:
    """floor(quantity × multiplier), never below one contract."""
    return max(1, int((quantity * multiplier).to_integral_value(rounding=ROUND_FLOOR)))


def compute_quantity(
    base: int, confluence_multiplier: Decimal, gamma_multiplier: Decimal, risk_multiplier: Decimal, max_contracts: int
) -> Sizing:
    """Contracts to buy: base × confluence × gamma × risk, floored at each step (min 1), then
    clamped to [1, max_contracts]. A confluence multiplier of 0 means no trade: quantity 0."""
    if max_contracts < 1:
        raise ValueError(f"max_contracts must be at least 1, not {max_contracts}")
    quantity = max(1, base)
    steps = [SizingStep("base", None, quantity)]
    if confluence_multiplier <= 0:
        return Sizing(0, (*steps, SizingStep("confluence", confluence_multiplier, 0)))
    factors = (("confluence", confluence_multiplier), ("gamma", gamma_multiplier), ("risk", risk_multiplier))
    for name, multiplier in factors:
        quantity = _scaled(quantity, multiplier)
        steps.append(SizingStep(name, multiplier, quantity))
    quantity = min(quantity, max_contracts)
    steps.append(SizingStep("clamp", None, quantity))
    return Sizing(quantity, tuple(steps))
