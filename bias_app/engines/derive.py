"""What the service derives from two consecutive bias states (pure; reference ingestion-and-bias §7.3–§7.6).

Decisions that differ from the original (docs/bias.md):
- suppression is direction-aware: `suppressLong` / `suppressShort`, `tradeSuppressed` = either;
- `compressionEvent` does not depend on the previous state, so a first state can carry it;
- `macroDriftScore` is the *size* of the macro-confidence change (+0.15 on a macro flip): drift means
  instability, whichever way confidence moved; the signed change is kept as `macroConfidenceDelta`;
- gamma context older than `GAMMA_MAX_AGE_MS` (relative to the event) is dropped, never merged.
Derived numbers are rounded to 4 dp so stored JSON carries no binary-float noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bias_app.engines.config import GatingConfig, StalenessConfig
from bias_app.engines.staleness import with_staleness

COMPRESSION_CHOP = 70  # chop at or above which a COMPRESSION intent is a compression event
EXPANSION_CHOP_DROP = 10  # chop must fall by more than this for an expansion event
CHOP_CONFIDENCE_FACTOR = 0.7  # effective confidence factor while high chop suppresses trading
MACRO_FLIP_DRIFT_BONUS = 0.15
# Dealer gamma moves with intraday positioning; a reading older than two producer cycles of a
# 15-minute chart says little about the current session, so it is dropped rather than merged.
GAMMA_MAX_AGE_MS = 30 * 60 * 1000

_LIQUIDITY_EVENTS = ("reclaim", "sweepHigh", "sweepLow")


def _r(value: float) -> float:
    return round(value, 4)


def detect_transitions(current: Mapping, previous: Mapping | None) -> dict:
    liquidity = current["liquidity"]
    compression = current["intentType"] == "COMPRESSION" and current["chopScore"] >= COMPRESSION_CHOP
    if previous is None:
        return {
            "biasFlip": False, "regimeFlip": False, "macroFlip": False, "intentChange": False,
            "liquidityEvent": any(bool(liquidity[k]) for k in _LIQUIDITY_EVENTS),
            "expansionEvent": False, "compressionEvent": compression,
        }
    previous_liquidity = previous.get("liquidity") or {}
    previous_chop = previous.get("chopScore")
    return {
        "biasFlip": {current["bias"], previous.get("bias")} == {"BULLISH", "BEARISH"},
        "regimeFlip": current["regimeType"] != previous.get("regimeType"),
        "macroFlip": current["macroClass"] != previous.get("macroClass"),
        "intentChange": current["intentType"] != previous.get("intentType"),
        "liquidityEvent": any(bool(liquidity[k]) and not previous_liquidity.get(k) for k in _LIQUIDITY_EVENTS),
        "expansionEvent": bool(current["regimeTransition"])
        and previous_chop is not None
        and current["chopScore"] < previous_chop - EXPANSION_CHOP_DROP
        and current["atrState15m"] in ("EXPANDING", None),
        "compressionEvent": compression,
    }


def compute_effective(state: Mapping, gating: GatingConfig) -> dict:
    """Direction-aware effective gating (reference §7.4, SPEC §4). Steps apply in order."""
    bias, macro = state["bias"], state["macroClass"]
    liquidity, space = state["liquidity"], state["space"]
    confidence = state["confidence"]
    suppress_long = suppress_short = False
    risk_multiplier = 1.0
    notes: list[str] = []
    # Macro conflict suppresses only the side the macro regime argues against.
    if macro in gating.macro_suppress_long_classes and bias == "BULLISH":
        suppress_long = True
        confidence *= gating.macro_conflict_risk_multiplier
        risk_multiplier = gating.macro_conflict_risk_multiplier
        notes.append(f"Macro {macro} suppresses longs")
    if macro in gating.macro_suppress_short_classes and bias == "BEARISH":
        suppress_short = True
        confidence *= gating.macro_conflict_risk_multiplier
        risk_multiplier = gating.macro_conflict_risk_multiplier
        notes.append(f"Macro {macro} suppresses shorts")
    if state["intentType"] == "BREAKOUT" and space["roomToResistance"] == "LOW":
        confidence -= gating.breakout_low_space_penalty
        notes.append("Low room to resistance + breakout intent reduces confidence")
    if state["intentType"] == "BREAKOUT" and space["roomToSupport"] == "LOW":
        confidence -= gating.breakout_low_space_penalty
        notes.append("Low room to support + breakout intent reduces confidence")
    if liquidity["reclaim"]:
        confidence = min(1.0, confidence + gating.reclaim_boost)
        notes.append("Liquidity reclaim boosts confidence")
    if state["regimeTransition"]:
        confidence = min(1.0, confidence + gating.regime_transition_boost)
        notes.append("Regime transition boosts confidence")
    chop = state["chopScore"]
    # A reclaim in the direction of the macro trend is the one setup that trades through chop.
    trend_reclaim = liquidity["reclaim"] and (
        (macro == "MACRO_TREND_UP" and bias == "BULLISH") or (macro == "MACRO_TREND_DOWN" and bias == "BEARISH")
    )
    if chop >= gating.chop_suppression_threshold and not trend_reclaim:
        suppress_long = suppress_short = True
        confidence *= CHOP_CONFIDENCE_FACTOR
        notes.append(f"High chop ({chop:g}) suppresses trades")
    return {
        "tradeSuppressed": suppress_long or suppress_short,
        "suppressLong": suppress_long,
        "suppressShort": suppress_short,
        "effectiveConfidence": _r(min(1.0, max(0.0, confidence))),
        "effectiveBiasScore": min(100, max(-100, state["biasScore"])),
        "riskMultiplier": risk_multiplier,
        "notes": notes,
    }


def _delta(current: float | None, previous: float | None) -> float:
    return 0.0 if current is None or previous is None else _r(current - previous)


def compute_acceleration(current: Mapping, previous: Mapping | None, *, macro_flip: bool) -> dict:
    if previous is None:
        return {"stateStrengthDelta": 0.0, "intentMomentumDelta": 0.0, "macroConfidenceDelta": 0.0, "macroDriftScore": 0.0}
    macro_delta = _delta(current["macroConfidence"], previous.get("macroConfidence"))
    return {
        "stateStrengthDelta": _delta(current["biasScore"], previous.get("biasScore")),
        "intentMomentumDelta": _delta(current["intentConfidence"], previous.get("intentConfidence")),
        "macroConfidenceDelta": macro_delta,
        "macroDriftScore": _r(abs(macro_delta) + (MACRO_FLIP_DRIFT_BONUS if macro_flip else 0.0)),
    }


def merge_gamma(incoming: Mapping | None, previous: Mapping | None, *, event_ts_ms: int, max_age_ms: int = GAMMA_MAX_AGE_MS) -> dict | None:
    """The newest gamma context (the event's own wins a tie), or None when it is too old."""
    candidates = [g for g in (incoming, previous) if g and isinstance(g.get("gammaUpdatedAtMs"), int)]
    if not candidates:
        return None
    newest = max(candidates, key=lambda g: g["gammaUpdatedAtMs"])  # max keeps the first of equals
    if event_ts_ms - newest["gammaUpdatedAtMs"] > max_age_ms:
        return None
    return dict(newest)


def build_state(
    core: Mapping, previous: Mapping | None, *, gamma: Mapping | None, gating: GatingConfig,
    staleness: StalenessConfig, now: datetime,
) -> dict:
    """The full camelCase `UnifiedBiasState` for one event, relative to the state it replaces."""
    state = dict(core)
    transitions = detect_transitions(state, previous)
    state["transitions"] = transitions
    state["effective"] = compute_effective(state, gating)
    state["acceleration"] = compute_acceleration(state, previous, macro_flip=transitions["macroFlip"])
    state["gamma"] = merge_gamma(gamma, previous.get("gamma") if previous else None, event_ts_ms=state["updatedAtMs"])
    return with_staleness(state, now, staleness)
