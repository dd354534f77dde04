from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bias_app.defaults import BIAS_CONFIG_DEFAULTS
from optionsengine.marketdata.types import DealerPosition, GexSnapshot
from signals_app.engines.sizing import compute_quantity, gamma_sizing, risk_multiplier

RISK = BIAS_CONFIG_DEFAULTS["risk"]
ONE = Decimal(1)


def state(**overrides) -> dict:
    """A neutral bias state: no factor applies until a test sets one."""
    base = {
        "bias": "NEUTRAL", "regimeType": "RANGE", "alignmentScore": 50, "macroClass": "MACRO_RANGE",
        "trendPhase": "MID", "effective": {"riskMultiplier": 1.0},
        "acceleration": {"stateStrengthDelta": 0.0, "macroDriftScore": 0.0},
    }
    return {**base, **overrides}


def multiplier(bias_state, direction="long", strategy="PULLBACK", staleness=ONE, config=RISK) -> Decimal:
    return risk_multiplier(bias_state, direction, strategy, config, staleness)[0]


# --- risk_multiplier -----------------------------------------------------------------------------


def test_no_bias_state_is_neutral():
    assert risk_multiplier(None, "long", "BREAKOUT", RISK, Decimal("0.7")) == (ONE, ("no bias state: × 1",))


def test_neutral_state_is_neutral():
    assert multiplier(state()) == ONE


@pytest.mark.parametrize(
    ("direction", "macro", "expected"),
    [
        ("long", "MACRO_BREAKDOWN_CONFIRMED", "0.5"),  # against the macro: penalty
        ("long", "MACRO_TREND_UP", "1.15"),  # with the macro: boost
        ("long", "MACRO_TREND_DOWN", "1"),  # no key for it; gating handles bullish longs here
        ("long", "MACRO_RANGE", "1"),
        ("short", "MACRO_TREND_UP", "0.5"),  # against the macro: macroTrendDownShortMultiplier
        ("short", "MACRO_TREND_DOWN", "1.15"),  # with the macro: the seed halved this (bug)
        ("short", "MACRO_BREAKDOWN_CONFIRMED", "1.15"),
        ("short", "MACRO_REVERSAL_RISK", "1"),
    ],
)
def test_macro_factor_is_direction_aware(direction, macro, expected):
    assert multiplier(state(macroClass=macro), direction) == Decimal(expected)


def test_macro_factors_read_the_stored_config():
    config = {**RISK, "macroTrendDownShortMultiplier": 0.4, "macroTrendUpLongMultiplier": 1.3}
    assert multiplier(state(macroClass="MACRO_TREND_UP"), "short", config=config) == Decimal("0.4")
    assert multiplier(state(macroClass="MACRO_TREND_DOWN"), "short", config=config) == Decimal("1.3")


def test_missing_config_keys_fall_back_to_defaults():
    assert multiplier(state(macroClass="MACRO_TREND_UP"), config={}) == Decimal("1.15")


@pytest.mark.parametrize(
    ("overrides", "direction", "strategy", "expected"),
    [
        ({"regimeType": "RANGE"}, "long", "BREAKOUT", "0.7"),
        ({"regimeType": "RANGE"}, "short", "breakout", "0.7"),
        ({"regimeType": "RANGE"}, "long", "PULLBACK", "1"),
        ({"regimeType": "TREND", "bias": "BULLISH", "alignmentScore": 75.01}, "long", "PULLBACK", "1.1"),
        ({"regimeType": "TREND", "bias": "BULLISH", "alignmentScore": 75}, "long", "PULLBACK", "1"),
        ({"regimeType": "TREND", "bias": "BEARISH", "alignmentScore": 90}, "short", "PULLBACK", "1.1"),
        # An aligned trend the other way does not size the trade up.
        ({"regimeType": "TREND", "bias": "BEARISH", "alignmentScore": 90}, "long", "PULLBACK", "1"),
    ],
)
def test_regime_factor(overrides, direction, strategy, expected):
    assert multiplier(state(**overrides), direction, strategy) == Decimal(expected)


@pytest.mark.parametrize(
    ("direction", "delta", "expected"),
    [
        ("long", 15.01, "1.1"),
        ("long", 15, "1"),
        ("long", -20, "1"),
        ("long", -20.01, "0.8"),
        # For shorts a falling biasScore is strengthening.
        ("short", -15.01, "1.1"),
        ("short", -15, "1"),
        ("short", 20, "1"),
        ("short", 20.01, "0.8"),
    ],
)
def test_acceleration_is_signed_to_the_trade_direction(direction, delta, expected):
    accel = {"stateStrengthDelta": delta, "macroDriftScore": 0.0}
    assert multiplier(state(acceleration=accel), direction) == Decimal(expected)


@pytest.mark.parametrize(("drift", "expected"), [(0.15, "1"), (0.1501, "0.85")])
def test_macro_drift_factor(drift, expected):
    assert multiplier(state(acceleration={"stateStrengthDelta": 0, "macroDriftScore": drift})) == Decimal(expected)


@pytest.mark.parametrize(
    ("direction", "delta", "expected"),
    [
        ("long", -1, "0.75"),
        ("long", 0, "1"),
        ("short", 1, "0.75"),  # biasScore rising is a short losing strength
        ("short", -1, "1"),
        ("long", -25, "0.60"),  # weakening (0.8) and late-phase (0.75), each once
    ],
)
def test_late_phase_losing_strength(direction, delta, expected):
    s = state(trendPhase="LATE", acceleration={"stateStrengthDelta": delta, "macroDriftScore": 0})
    assert multiplier(s, direction) == Decimal(expected)


def test_effective_macro_conflict_multiplier_applies_once():
    value, notes = risk_multiplier(state(effective={"riskMultiplier": 0.6}), "long", "PULLBACK", RISK, ONE)
    assert value == Decimal("0.6")
    assert sum("effective.riskMultiplier" in n for n in notes) == 1


def test_staleness_multiplier_applies_once():
    value, notes = risk_multiplier(state(), "long", "PULLBACK", RISK, Decimal("0.7"))
    assert (value, notes) == (Decimal("0.7"), ("stale bias state: × 0.7",))


def test_every_factor_is_noted_once():
    s = state(
        macroClass="MACRO_BREAKDOWN_CONFIRMED", effective={"riskMultiplier": 0.6},
        acceleration={"stateStrengthDelta": 0, "macroDriftScore": 0.2},
    )
    value, notes = risk_multiplier(s, "long", "PULLBACK", RISK, ONE)
    assert value == Decimal("0.5") * Decimal("0.85") * Decimal("0.6")  # 0.255, above the floor
    assert len(notes) == 3


@pytest.mark.parametrize(
    ("overrides", "direction", "staleness", "expected"),
    [
        # 0.5 × 0.7 × 0.8 × 0.85 × 0.75 × 0.6 × 0.7 → far below 0.25
        (
            {"macroClass": "MACRO_BREAKDOWN_CONFIRMED", "trendPhase": "LATE", "effective": {"riskMultiplier": 0.6},
             "acceleration": {"stateStrengthDelta": -30, "macroDriftScore": 0.3}},
            "long", Decimal("0.7"), "0.25",
        ),
        # 1.15 × 1.1 × 1.1 = 1.3915: inside
        (
            {"macroClass": "MACRO_TREND_UP", "regimeType": "TREND", "bias": "BULLISH", "alignmentScore": 90,
             "acceleration": {"stateStrengthDelta": 30, "macroDriftScore": 0}},
            "long", ONE, "1.3915",
        ),
    ],
)
def test_product_is_clamped_to_quarter_and_one_and_a_half(overrides, direction, staleness, expected):
    assert multiplier(state(**overrides), direction, "BREAKOUT", staleness) == Decimal(expected)


def test_product_above_one_and_a_half_is_clamped():
    config = {**RISK, "macroTrendUpLongMultiplier": 2}
    value, notes = risk_multiplier(state(macroClass="MACRO_TREND_UP"), "long", "PULLBACK", config, ONE)
    assert value == Decimal("1.5")
    assert notes[-1] == "product 2 clamped to 1.5"


def test_invalid_direction_is_an_error():
    with pytest.raises(ValueError):
        risk_multiplier(state(), "flat", "PULLBACK", RISK, ONE)


# --- gamma_sizing --------------------------------------------------------------------------------


def gex(dealer: DealerPosition) -> GexSnapshot:
    return GexSnapshot(
        symbol="SPY", spot=Decimal("600"), net_gex=Decimal("-2e9"), call_gex=Decimal(0), put_gex=Decimal(0),
        zero_gamma_level=None, dealer_position=dealer, as_of=datetime(2026, 3, 13, tzinfo=UTC), provider="fixture",
    )


@pytest.mark.parametrize(
    ("dealer", "flow_bullish", "direction", "mult", "regime", "confidence"),
    [
        (DealerPosition.SHORT_GAMMA, None, "long", "1.2", "SHORT_GAMMA", "0.6"),
        (DealerPosition.SHORT_GAMMA, True, "long", "1.2", "SHORT_GAMMA", "0.7"),  # flow agrees
        (DealerPosition.SHORT_GAMMA, False, "short", "1.2", "SHORT_GAMMA", "0.7"),
        (DealerPosition.SHORT_GAMMA, True, "short", "1.2", "SHORT_GAMMA", "0.6"),  # flow opposes
        (DealerPosition.LONG_GAMMA, True, "long", "0.8", "LONG_GAMMA", "0.55"),
        (DealerPosition.NEUTRAL, None, "short", "0.9", "NEUTRAL", "0.5"),
    ],
)
def test_dealer_positioning_multiplier(dealer, flow_bullish, direction, mult, regime, confidence):
    value, meta = gamma_sizing(gex(dealer), flow_bullish, direction)
    assert value == Decimal(mult)
    assert (meta["regime"], meta["multiplier"], meta["confidence"]) == (regime, mult, confidence)
    assert meta["note"]


def test_no_gex_leaves_size_unchanged():
    value, meta = gamma_sizing(None, True, "long")
    assert value == ONE
    assert (meta["regime"], meta["multiplier"], meta["confidence"]) == (None, "1", None)


# --- compute_quantity ----------------------------------------------------------------------------


def steps(sizing) -> list[tuple[str, int]]:
    return [(s.name, s.quantity) for s in sizing.steps]


def test_each_multiplier_applied_once_in_order_with_a_floor_at_each_step():
    sizing = compute_quantity(10, Decimal("0.5"), Decimal("1.2"), Decimal("0.9"), 10)
    # 10 × 0.5 = 5 → 5 × 1.2 = 6 → 6 × 0.9 = 5.4 → 5
    assert steps(sizing) == [("base", 10), ("confluence", 5), ("gamma", 6), ("risk", 5), ("clamp", 5)]
    assert sizing.quantity == 5


def test_floor_at_each_step_differs_from_flooring_the_product():
    # 10 × 0.25 = 2.5 → 2; 2 × 1.2 = 2.4 → 2; 2 × 1.5 = 3. The product 4.5 would floor to 4.
    sizing = compute_quantity(10, Decimal("0.25"), Decimal("1.2"), Decimal("1.5"), 10)
    assert steps(sizing) == [("base", 10), ("confluence", 2), ("gamma", 2), ("risk", 3), ("clamp", 3)]


def test_every_step_keeps_at_least_one_contract():
    sizing = compute_quantity(1, Decimal("0.25"), Decimal("0.8"), Decimal("0.25"), 10)
    assert steps(sizing) == [("base", 1), ("confluence", 1), ("gamma", 1), ("risk", 1), ("clamp", 1)]


@pytest.mark.parametrize(("max_contracts", "expected"), [(17, 17), (18, 18), (19, 18), (1, 1)])
def test_clamped_to_max_contracts(max_contracts, expected):
    # 10 × 1 × 1.2 = 12 → 12 × 1.5 = 18
    assert compute_quantity(10, ONE, Decimal("1.2"), Decimal("1.5"), max_contracts).quantity == expected


@pytest.mark.parametrize("confluence", [Decimal(0), Decimal("0.00")])
def test_zero_confluence_tier_means_no_trade(confluence):
    sizing = compute_quantity(10, confluence, Decimal("1.2"), ONE, 10)
    assert sizing.quantity == 0
    assert steps(sizing) == [("base", 10), ("confluence", 0)]


def test_non_positive_base_is_one_contract():
    assert compute_quantity(0, ONE, ONE, ONE, 10).quantity == 1


def test_max_contracts_below_one_is_an_error():
    with pytest.raises(ValueError):
        compute_quantity(10, ONE, ONE, ONE, 0)


def test_rationale_steps_are_json_storable():
    sizing = compute_quantity(10, Decimal("0.5"), Decimal("1.2"), Decimal("0.9"), 10)
    assert sizing.as_rationale()[1] == {"step": "confluence", "multiplier": "0.5", "quantity": 5}
    assert sizing.as_rationale()[0] == {"step": "base", "multiplier": None, "quantity": 10}
