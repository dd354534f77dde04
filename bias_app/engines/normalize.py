"""Validated producer payloads → a `BiasEvent` carrying the camelCase core of `UnifiedBiasState`.

Pure. The core holds what the producer said; `derive.build_state` adds what the service computes
(transitions, effective gating, acceleration, gamma, staleness).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from bias_app.engines import schemas
from bias_app.engines.validation import Issue, validate

# Same symbol rule as trade signals (SPEC §3), so a bias state and a signal meet on one key.
from optionsengine.lib.symbols import normalize_symbol

# A producer clock running ahead would pin the symbol: every later event would be "out of order".
MAX_FUTURE_MS = 5 * 60 * 1000

KIND_V3 = "bias_v3"
KIND_LEGACY = "bias_legacy"


@dataclass(frozen=True)
class BiasEvent:
    event_id_raw: str
    event_id: str  # sha256 hex of event_id_raw
    symbol: str
    event_ts_ms: int
    event_type: str
    source: str
    core: dict  # camelCase producer fields of the unified state
    gamma: dict | None  # camelCase gamma context carried by the payload, if any


class InvalidBiasPayload(ValueError):
    def __init__(self, issues: list[Issue], symbol: str | None):
        super().__init__("; ".join(f"{i.field}: {i.message}" for i in issues))
        self.issues = issues
        self.symbol = symbol


def event_id_for(event_id_raw: str) -> str:
    return hashlib.sha256(event_id_raw.encode("utf-8")).hexdigest()


def parse_bias_payload(payload: object, *, kind: str, now_ms: int) -> BiasEvent:
    """Validate a V3 or legacy V1 payload and normalize it. Raises InvalidBiasPayload."""
    if kind not in (KIND_V3, KIND_LEGACY):
        raise ValueError(f"unknown bias payload kind {kind!r}")
    spec = schemas.V3_SCHEMA if kind == KIND_V3 else schemas.V1_SCHEMA
    cleaned, issues = validate(spec, payload)
    symbol = normalize_symbol(cleaned.get("symbol")) if cleaned else None
    if cleaned and cleaned.get("symbol") is not None and symbol is None:
        issues.append(Issue("symbol", "must match ^[A-Z0-9.^/_-]{1,20}$ after removing an exchange prefix"))
    if cleaned and cleaned.get("event_ts_ms") is not None and cleaned["event_ts_ms"] > now_ms + MAX_FUTURE_MS:
        issues.append(Issue("event_ts_ms", "must not be more than 5 minutes in the future"))
    if issues:
        raise InvalidBiasPayload(issues, symbol)
    assert cleaned is not None and symbol is not None
    if kind == KIND_V3:
        event = _event(cleaned, symbol, schemas.V3_SOURCE, _core_v3(cleaned), _gamma(cleaned.get("gamma")))
    else:
        event = _event(cleaned, symbol, schemas.V1_SOURCE, _core_v1(cleaned), None)
    bad = non_finite_paths(event.core) + non_finite_paths(event.gamma or {}, "gamma")
    if bad:  # a derived number overflowed (inputs are finite): refuse rather than fail to store
        raise InvalidBiasPayload([Issue(path, "derived value is not a finite number") for path in bad], symbol)
    return event


def non_finite_paths(value, path: str = "") -> list[str]:
    """Dotted paths of every float in `value` that is NaN or infinite (JSON cannot store them)."""
    found: list[str] = []
    stack = [(path, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            found.append(where or "(value)")
        elif isinstance(node, dict):
            stack.extend((f"{where}.{key}" if where else str(key), item) for key, item in node.items())
        elif isinstance(node, list):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(node))
    return sorted(found)


def _event(cleaned: dict, symbol: str, source: str, core: dict, gamma: dict | None) -> BiasEvent:
    raw = cleaned["event_id_raw"]
    event_id = event_id_for(raw)
    core = {
        "symbol": symbol, "updatedAtMs": cleaned["event_ts_ms"], "source": source,
        "eventType": cleaned["event_type"], "lastEventId": event_id, **core,
    }
    return BiasEvent(
        event_id_raw=raw, event_id=event_id, symbol=symbol, event_ts_ms=cleaned["event_ts_ms"],
        event_type=cleaned["event_type"], source=source, core=core, gamma=gamma,
    )


def _core_v3(p: dict) -> dict:
    consensus, regime = p["mtf"]["consensus"], p["mtf"]["regime"]
    macro, intent, levels = p["macro"]["state"], p["intent"], p["levels"]
    vwap, orb, swings = levels["vwap"], levels["orb"], levels["swings"] or {}
    liquidity, risk = p["liquidity"], p["risk_context"]
    return {
        "chartTf": p["chart_tf"], "session": p["session"],
        "bias": consensus["bias_consensus"], "biasScore": consensus["bias_score"],
        "confidence": consensus["confidence_score"], "alignmentScore": consensus["alignment_score"],
        "conflictScore": consensus["conflict_score"],
        "regimeType": regime["type"], "chopScore": regime["chop_score"],
        "adx15m": regime["adx_15m"], "atrState15m": regime["atr_state_15m"],
        "macroClass": macro["macro_class"], "macroConfidence": macro["macro_confidence"],
        "macroSupport1": macro["macro_support_1"], "macroResistance1": macro["macro_resistance_1"],
        "macroMeasuredMoveTarget": macro["macro_measured_move_target"],
        "intentType": intent["type"], "intentConfidence": intent["confidence"],
        "regimeTransition": intent["regime_transition"], "trendPhase": intent["trend_phase"],
        "levels": {
            "vwap": {"enabled": vwap["enabled"], "value": vwap["value"], "position": vwap["position"], "distAtr": vwap["dist_atr"]},
            "orb": {
                "enabled": orb["enabled"], "windowMin": orb["window_min"], "high": orb["high"], "low": orb["low"],
                "mid": orb["mid"], "state": orb["state"], "ageMin": orb["age_min"],
            },
            "swings": {
                "h1LastPivotHigh": swings.get("h1_last_pivot_high"), "h1LastPivotLow": swings.get("h1_last_pivot_low"),
                "m15LastPivotHigh": swings.get("m15_last_pivot_high"), "m15LastPivotLow": swings.get("m15_last_pivot_low"),
                "distToResAtr": swings.get("dist_to_res_atr"), "distToSupAtr": swings.get("dist_to_sup_atr"),
            },
        },
        "trigger": {"barType": p["trigger"]["bar_type"], "pattern": p["trigger"]["pattern"], "triggered": p["trigger"]["triggered"]},
        "liquidity": {
            "sweepHigh": liquidity["sweep_high"], "sweepLow": liquidity["sweep_low"], "reclaim": liquidity["reclaim"],
            "equalHighCluster": liquidity["equal_high_cluster"], "equalLowCluster": liquidity["equal_low_cluster"],
        },
        "space": {"roomToResistance": p["space"]["room_to_resistance"], "roomToSupport": p["space"]["room_to_support"]},
        "riskContext": {
            "invalidation": {"level": risk["invalidation"]["level"], "method": risk["invalidation"]["method"]},
            "entryModeHint": risk["entry_mode_hint"],
        },
    }


def _gamma(g: dict | None) -> dict | None:
    if g is None:
        return None
    return {
        "gammaEnvironment": g["gamma_environment"], "gammaMagnitude": g["gamma_magnitude"],
        "gammaFlipLevel": g["gamma_flip_level"], "distanceToFlip": g["distance_to_flip"],
        "callWall": g["call_wall"], "putWall": g["put_wall"], "volRegimeBias": g["vol_regime_bias"],
        "gammaUpdatedAtMs": g["as_of_ts_ms"],
    }


# V1 vocabularies mapped onto the unified one; a V1 field with no V3 counterpart becomes null.
_V1_BIAS = {"BULLISH": "BULLISH", "BEARISH": "BEARISH", "NEUTRAL": "NEUTRAL", "HOLD": "NEUTRAL"}
_V1_REGIME = {"TREND": "TREND", "RANGE": "RANGE", "BREAKOUT": "TREND", "BREAKDOWN": "TREND"}
_V1_VWAP = {"ABOVE": "ABOVE", "BELOW": "BELOW", "AT": "CROSSING"}
_V1_ORB = {"INSIDE": "INSIDE", "ABOVE": "BROKE_UP", "BREAK_UP": "BROKE_UP", "BELOW": "BROKE_DOWN", "BREAK_DOWN": "BROKE_DOWN"}


def _core_v1(p: dict) -> dict:
    consensus, regime = p["mtf"]["consensus"], p["mtf"]["regime"]
    vwap, orb, risk = p["levels"]["vwap"], p["levels"]["orb"], p["risk_context"]
    session = p.get("session")
    return {
        "chartTf": p["chart_tf"], "session": session if session in ("RTH", "ETH") else None,
        "bias": _V1_BIAS[consensus["bias_consensus"]], "biasScore": consensus["bias_score"],
        "confidence": consensus["confidence_score"], "alignmentScore": consensus["alignment_score"],
        "conflictScore": consensus["conflict_score"],
        "regimeType": _V1_REGIME[regime["type"]], "chopScore": regime["chop_score"],
        "adx15m": None, "atrState15m": None,
        "macroClass": None, "macroConfidence": None, "macroSupport1": None, "macroResistance1": None,
        "macroMeasuredMoveTarget": None,
        "intentType": None, "intentConfidence": None, "regimeTransition": False, "trendPhase": None,
        "levels": {
            "vwap": {"enabled": True, "value": vwap["value"], "position": _V1_VWAP[vwap["position"]], "distAtr": None},
            "orb": {
                "enabled": True, "windowMin": None, "high": orb["high"], "low": orb["low"],
                "mid": round(orb["high"] / 2 + orb["low"] / 2, 4), "state": _V1_ORB[orb["state"]], "ageMin": None,
            },
            "swings": dict.fromkeys(
                ("h1LastPivotHigh", "h1LastPivotLow", "m15LastPivotHigh", "m15LastPivotLow", "distToResAtr", "distToSupAtr")
            ),
        },
        "trigger": {"barType": "NA", "pattern": "NA", "triggered": False},
        "liquidity": dict.fromkeys(("sweepHigh", "sweepLow", "reclaim", "equalHighCluster", "equalLowCluster"), False),
        "space": {"roomToResistance": "NA", "roomToSupport": "NA"},
        "riskContext": {"invalidation": {"level": risk["invalidation"]["level"], "method": "NA"}, "entryModeHint": risk["entry_mode_hint"]},
        "legacyRegimeType": regime["type"],
    }
