"""Transitions, effective gating, acceleration and gamma merge (pure: no database)."""

from __future__ import annotations

import pytest

from bias_app.engines.config import GatingConfig, StalenessConfig
from bias_app.engines.derive import (
    GAMMA_MAX_AGE_MS,
    build_state,
    compute_acceleration,
    compute_effective,
    detect_transitions,
    merge_gamma,
)
from bias_app.engines.normalize import parse_bias_payload
from tests.bias_app.builders import BASE_TS_MS, NOW, NOW_MS, v3_payload

GATING = GatingConfig.defaults()


def core(changes: dict | None = None) -> dict:
    return parse_bias_payload(v3_payload(changes), kind="bias_v3", now_ms=NOW_MS).core


# --- transitions ---------------------------------------------------------------------------

NO_FLAGS = dict.fromkeys(
    ("biasFlip", "regimeFlip", "macroFlip", "intentChange", "liquidityEvent", "expansionEvent", "compressionEvent"), False
)


@pytest.mark.parametrize(
    ("previous", "current", "expected_true"),
    [
        ({}, {}, set()),
        ({"mtf.consensus.bias_consensus": "BEARISH"}, {}, {"biasFlip"}),
        ({}, {"mtf.consensus.bias_consensus": "BEARISH"}, {"biasFlip"}),
        ({"mtf.consensus.bias_consensus": "NEUTRAL"}, {}, set()),  # NEUTRAL moves are not flips
        ({}, {"mtf.consensus.bias_consensus": "NEUTRAL"}, set()),
        ({}, {"mtf.regime.type": "RANGE"}, {"regimeFlip"}),
        ({}, {"macro.state.macro_class": "MACRO_RANGE"}, {"macroFlip"}),
        ({}, {"intent.type": "BREAKOUT"}, {"intentChange"}),
        ({}, {"liquidity.reclaim": True}, {"liquidityEvent"}),
        ({}, {"liquidity.sweep_high": True}, {"liquidityEvent"}),
        ({}, {"liquidity.sweep_low": True}, {"liquidityEvent"}),
        ({"liquidity.reclaim": True}, {"liquidity.reclaim": True}, set()),  # must go false → true
        ({}, {"liquidity.equal_high_cluster": False}, set()),  # clusters are not liquidity events
        # expansion: regime transition AND chop dropped by more than 10 AND ATR expanding or absent
        ({"mtf.regime.chop_score": 43}, {"intent.regime_transition": True, "mtf.regime.chop_score": 32, "mtf.regime.atr_state_15m": "EXPANDING"}, {"expansionEvent"}),
        ({"mtf.regime.chop_score": 42}, {"intent.regime_transition": True, "mtf.regime.chop_score": 32, "mtf.regime.atr_state_15m": "EXPANDING"}, set()),
        ({"mtf.regime.chop_score": 60}, {"intent.regime_transition": True, "mtf.regime.atr_state_15m": "NORMAL"}, set()),
        ({"mtf.regime.chop_score": 60}, {"intent.regime_transition": False, "mtf.regime.atr_state_15m": "EXPANDING"}, set()),
        # compression: COMPRESSION intent with chop >= 70
        ({}, {"intent.type": "COMPRESSION", "mtf.regime.chop_score": 70}, {"compressionEvent", "intentChange"}),
        ({}, {"intent.type": "COMPRESSION", "mtf.regime.chop_score": 69.9}, {"intentChange"}),
    ],
)
def test_transitions_compare_the_new_state_with_the_previous_one(previous, current, expected_true):
    flags = detect_transitions(core(current), core(previous))
    assert {name for name, value in flags.items() if value} == expected_true


def test_expansion_counts_an_absent_atr_state_as_expanding():
    current = core({"intent.regime_transition": True, "mtf.regime.chop_score": 20})
    current["atrState15m"] = None
    assert detect_transitions(current, core({"mtf.regime.chop_score": 50}))["expansionEvent"] is True


@pytest.mark.parametrize(
    ("current", "expected_true"),
    [
        ({}, set()),
        ({"mtf.consensus.bias_consensus": "BEARISH", "mtf.regime.type": "RANGE"}, set()),
        ({"liquidity.sweep_low": True}, {"liquidityEvent"}),
        ({"intent.type": "COMPRESSION", "mtf.regime.chop_score": 80}, {"compressionEvent"}),
    ],
)
def test_a_first_state_has_no_flips_but_keeps_its_own_events(current, expected_true):
    flags = detect_transitions(core(current), None)
    assert set(flags) == set(NO_FLAGS)
    assert {name for name, value in flags.items() if value} == expected_true


# --- effective gating ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("changes", "long", "short", "confidence", "risk", "notes"),
    [
        ({}, False, False, 0.71, 1.0, []),
        # macro conflict suppresses only the side the macro argues against
        ({"macro.state.macro_class": "MACRO_TREND_DOWN"}, True, False, 0.426, 0.6, ["Macro MACRO_TREND_DOWN suppresses longs"]),
        ({"macro.state.macro_class": "MACRO_BREAKDOWN_CONFIRMED"}, True, False, 0.426, 0.6, ["Macro MACRO_BREAKDOWN_CONFIRMED suppresses longs"]),
        ({"macro.state.macro_class": "MACRO_TREND_UP", "mtf.consensus.bias_consensus": "BEARISH"}, False, True, 0.426, 0.6, ["Macro MACRO_TREND_UP suppresses shorts"]),
        # no conflict when the macro agrees with the bias, or the bias is neutral
        ({"macro.state.macro_class": "MACRO_TREND_DOWN", "mtf.consensus.bias_consensus": "BEARISH"}, False, False, 0.71, 1.0, []),
        ({"macro.state.macro_class": "MACRO_TREND_DOWN", "mtf.consensus.bias_consensus": "NEUTRAL"}, False, False, 0.71, 1.0, []),
        ({"macro.state.macro_class": "MACRO_REVERSAL_RISK"}, False, False, 0.71, 1.0, []),
        # breakout into low space: penalty per side, no suppression
        ({"intent.type": "BREAKOUT", "space.room_to_resistance": "LOW"}, False, False, 0.46, 1.0, ["Low room to resistance + breakout intent reduces confidence"]),
        ({"intent.type": "BREAKOUT", "space.room_to_resistance": "LOW", "space.room_to_support": "LOW"}, False, False, 0.21, 1.0,
         ["Low room to resistance + breakout intent reduces confidence", "Low room to support + breakout intent reduces confidence"]),
        ({"intent.type": "PULLBACK", "space.room_to_resistance": "LOW"}, False, False, 0.71, 1.0, []),
        # boosts, capped at 1
        ({"liquidity.reclaim": True}, False, False, 0.79, 1.0, ["Liquidity reclaim boosts confidence"]),
        ({"intent.regime_transition": True}, False, False, 0.76, 1.0, ["Regime transition boosts confidence"]),
        ({"mtf.consensus.confidence_score": 0.98, "liquidity.reclaim": True, "intent.regime_transition": True}, False, False, 1.0, 1.0,
         ["Liquidity reclaim boosts confidence", "Regime transition boosts confidence"]),
        # high chop suppresses both sides; exactly at the threshold counts
        ({"mtf.regime.chop_score": 75}, True, True, 0.497, 1.0, ["High chop (75) suppresses trades"]),
        ({"mtf.regime.chop_score": 74.9}, False, False, 0.71, 1.0, []),
        # ...unless a reclaim trades with the macro trend
        ({"mtf.regime.chop_score": 90, "liquidity.reclaim": True}, False, False, 0.79, 1.0, ["Liquidity reclaim boosts confidence"]),
        ({"mtf.regime.chop_score": 90, "liquidity.reclaim": True, "mtf.consensus.bias_consensus": "BEARISH"}, True, True, 0.3542, 0.6,
         ["Macro MACRO_TREND_UP suppresses shorts", "Liquidity reclaim boosts confidence", "High chop (90) suppresses trades"]),
        # confidence never goes below zero
        ({"mtf.consensus.confidence_score": 0.1, "intent.type": "BREAKOUT", "space.room_to_resistance": "LOW", "space.room_to_support": "LOW"},
         False, False, 0.0, 1.0, ["Low room to resistance + breakout intent reduces confidence", "Low room to support + breakout intent reduces confidence"]),
    ],
)
def test_effective_gating_applies_each_rule_in_order(changes, long, short, confidence, risk, notes):
    effective = compute_effective(core(changes), GATING)
    assert (effective["suppressLong"], effective["suppressShort"]) == (long, short)
    assert effective["tradeSuppressed"] is (long or short)
    assert effective["effectiveConfidence"] == confidence
    assert effective["riskMultiplier"] == risk
    assert effective["notes"] == notes


def test_effective_bias_score_is_the_producer_score():
    assert compute_effective(core({"mtf.consensus.bias_score": -100}), GATING)["effectiveBiasScore"] == -100


def test_gating_thresholds_come_from_config():
    strict = GatingConfig.from_mapping({
        "macroSuppressLongClasses": [], "macroSuppressShortClasses": [], "breakoutLowSpacePenalty": 0.25,
        "reclaimBoost": 0.08, "chopSuppressionThreshold": 30, "regimeTransitionBoost": 0.05,
        "macroConflictRiskMultiplier": 0.6,
    })
    assert compute_effective(core({"mtf.regime.chop_score": 32}), strict)["tradeSuppressed"] is True
    assert compute_effective(core({"macro.state.macro_class": "MACRO_TREND_DOWN", "mtf.regime.chop_score": 20}), strict)["tradeSuppressed"] is False


# --- acceleration --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        ({}, {}, {"stateStrengthDelta": 0, "intentMomentumDelta": 0, "macroConfidenceDelta": 0, "macroDriftScore": 0}),
        ({"mtf.consensus.bias_score": 40}, {"mtf.consensus.bias_score": 62}, {"stateStrengthDelta": 22}),
        ({"mtf.consensus.bias_score": 62}, {"mtf.consensus.bias_score": 40.5}, {"stateStrengthDelta": -21.5}),
        ({"intent.confidence": 0.4}, {"intent.confidence": 0.7}, {"intentMomentumDelta": 0.3}),
        # drift is the size of the macro-confidence change, whichever way it moved
        ({"macro.state.macro_confidence": 0.8}, {"macro.state.macro_confidence": 0.6}, {"macroConfidenceDelta": -0.2, "macroDriftScore": 0.2}),
        ({"macro.state.macro_confidence": 0.6}, {"macro.state.macro_confidence": 0.8}, {"macroConfidenceDelta": 0.2, "macroDriftScore": 0.2}),
        # a macro flip adds 0.15
        ({"macro.state.macro_class": "MACRO_RANGE", "macro.state.macro_confidence": 0.6}, {"macro.state.macro_confidence": 0.65},
         {"macroConfidenceDelta": 0.05, "macroDriftScore": 0.2}),
    ],
)
def test_acceleration_measures_change_since_the_previous_state(previous, current, expected):
    before, after = core(previous), core(current)
    flip = detect_transitions(after, before)["macroFlip"]
    acceleration = compute_acceleration(after, before, macro_flip=flip)
    for key, value in expected.items():
        assert acceleration[key] == pytest.approx(value, abs=1e-9)


def test_a_first_state_has_zero_acceleration():
    assert set(compute_acceleration(core(), None, macro_flip=False).values()) == {0.0}


def test_acceleration_treats_a_missing_value_as_no_change():
    before = core()
    before["intentConfidence"] = None  # e.g. a legacy V1 state
    assert compute_acceleration(core(), before, macro_flip=False)["intentMomentumDelta"] == 0.0


# --- gamma merge ---------------------------------------------------------------------------

def gamma(at_ms: int, environment: str = "POSITIVE") -> dict:
    return {"gammaEnvironment": environment, "gammaUpdatedAtMs": at_ms}


@pytest.mark.parametrize(
    ("incoming", "previous", "expected"),
    [
        (None, None, None),
        (gamma(BASE_TS_MS), None, gamma(BASE_TS_MS)),
        (None, gamma(BASE_TS_MS - GAMMA_MAX_AGE_MS), gamma(BASE_TS_MS - GAMMA_MAX_AGE_MS)),  # exactly at the limit: kept
        (None, gamma(BASE_TS_MS - GAMMA_MAX_AGE_MS - 1), None),  # older: dropped
        (gamma(BASE_TS_MS - 1000, "NEGATIVE"), gamma(BASE_TS_MS - 5000), gamma(BASE_TS_MS - 1000, "NEGATIVE")),
        (gamma(BASE_TS_MS - 5000, "NEGATIVE"), gamma(BASE_TS_MS - 1000), gamma(BASE_TS_MS - 1000)),  # newest wins
        (gamma(BASE_TS_MS, "NEGATIVE"), gamma(BASE_TS_MS), gamma(BASE_TS_MS, "NEGATIVE")),  # tie: the event's own
    ],
)
def test_gamma_merge_keeps_the_newest_context_within_the_age_limit(incoming, previous, expected):
    assert merge_gamma(incoming, previous, event_ts_ms=BASE_TS_MS) == expected


def test_gamma_sent_with_the_payload_lands_in_the_state():
    payload = v3_payload({"gamma": {
        "as_of_ts_ms": BASE_TS_MS - 60_000, "gamma_environment": "NEGATIVE", "gamma_magnitude": "HIGH",
        "gamma_flip_level": 598.0, "distance_to_flip": -3.6, "call_wall": 610.0, "put_wall": 590.0,
        "vol_regime_bias": "EXPANSION_LIKELY",
    }})
    event = parse_bias_payload(payload, kind="bias_v3", now_ms=NOW_MS)
    state = build_state(event.core, None, gamma=event.gamma, gating=GATING, staleness=StalenessConfig.defaults(), now=NOW)
    assert state["gamma"] == {
        "gammaEnvironment": "NEGATIVE", "gammaMagnitude": "HIGH", "gammaFlipLevel": 598.0, "distanceToFlip": -3.6,
        "callWall": 610.0, "putWall": 590.0, "volRegimeBias": "EXPANSION_LIKELY", "gammaUpdatedAtMs": BASE_TS_MS - 60_000,
    }


def test_gamma_is_carried_forward_from_the_previous_state_while_fresh():
    previous = build_state(core(), None, gamma=gamma(BASE_TS_MS), gating=GATING, staleness=StalenessConfig.defaults(), now=NOW)
    later = core()
    later["updatedAtMs"] = BASE_TS_MS + 10 * 60_000
    state = build_state(later, previous, gamma=None, gating=GATING, staleness=StalenessConfig.defaults(), now=NOW)
    assert state["gamma"] == gamma(BASE_TS_MS)
    later["updatedAtMs"] = BASE_TS_MS + GAMMA_MAX_AGE_MS + 1
    assert build_state(later, previous, gamma=None, gating=GATING, staleness=StalenessConfig.defaults(), now=NOW)["gamma"] is None
