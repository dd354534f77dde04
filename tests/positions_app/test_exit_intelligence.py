"""Exit intelligence rules and safety constraints (pure)."""

from __future__ import annotations

import pytest

from positions_app.engines import exit_reasons as R
from positions_app.engines.exit_inputs import ExitSettings
from positions_app.engines.exit_intelligence import evaluate_intelligence
from tests.positions_app.builders import D, bias_state, view

SETTINGS = ExitSettings()  # macroDriftThreshold 0.18


def run(state, *, pnl="10", settings=SETTINGS, **position):
    return evaluate_intelligence(view(**position), state, pnl_pct=D(pnl), settings=settings)


def test_no_state_is_a_no_op():
    result = run(None)
    assert (result.full, result.partial, result.stop.empty) == ((), None, True)


@pytest.mark.parametrize(
    ("drift", "full", "partial"),
    [
        (0.18, False, False),  # at the threshold: nothing
        (0.1801, False, True),  # above: 30 % partial + tighten
        (0.25, False, True),  # threshold + 0.07 exactly: still partial
        (0.2501, True, False),  # beyond: full exit
    ],
)
def test_macro_drift_uses_the_tuned_threshold(drift, full, partial):
    result = run(bias_state(acceleration={"macroDriftScore": drift}))
    assert bool(result.full) is full
    assert (result.partial is not None) is partial
    if partial:
        assert result.partial.code == R.MACRO_DRIFT_EXIT_PRESSURE
        assert result.partial.fraction == D("0.30")
        assert result.stop.tighten == D("0.75")


def test_a_tuned_threshold_moves_both_edges():
    tuned = ExitSettings(macro_drift_threshold=D("0.22"))
    assert run(bias_state(acceleration={"macroDriftScore": 0.2}), settings=tuned).partial is None
    assert run(bias_state(acceleration={"macroDriftScore": 0.28}), settings=tuned).partial is not None
    assert run(bias_state(acceleration={"macroDriftScore": 0.2901}), settings=tuned).full == (R.MACRO_DRIFT_EXIT_PRESSURE,)


def test_a_macro_flip_in_the_positions_favour_is_not_exit_pressure():
    flip = {"transitions": {"macroFlip": True}}
    assert run(bias_state(**flip)).partial is not None
    assert run(bias_state(macroClass="MACRO_TREND_UP", **flip)).partial is None  # call, macro now trends up
    assert run(bias_state(macroClass="MACRO_TREND_DOWN", **flip), option_type="put").partial is None


def test_macro_drift_partial_fires_once():
    state = bias_state(acceleration={"macroDriftScore": 0.2})
    result = run(state, partials_taken=(R.MACRO_DRIFT_EXIT_PRESSURE,))
    assert result.partial is None
    assert result.stop.tighten == D("0.75")  # the dropped partial becomes a tighten


def test_partial_needs_one_percent_of_premium_else_it_becomes_a_tighten():
    state = bias_state(acceleration={"macroDriftScore": 0.2})
    assert run(state, pnl="1").partial is not None
    result = run(state, pnl="0.99")
    assert (result.partial, result.stop.tighten) == (None, D("0.75"))


def test_a_losing_position_is_never_tightened_or_widened():
    state = bias_state(acceleration={"macroDriftScore": 0.2})
    result = run(state, pnl="-0.01")
    assert (result.partial, result.stop.tighten, result.stop.widen) == (None, None, None)


@pytest.mark.parametrize(
    ("entry_delta", "now_delta", "phase", "option_type", "fires"),
    [
        ("5", -3, "LATE", "call", True),
        ("5", -3, "MID", "call", False),
        ("5", 2, "LATE", "call", False),
        (None, -3, "LATE", "call", False),  # unknown entry momentum: no verdict
        ("-5", 3, "LATE", "put", True),  # puts gain from falling strength
        ("-5", -3, "LATE", "put", False),
    ],
)
def test_acceleration_decay(entry_delta, now_delta, phase, option_type, fires):
    state = bias_state(trendPhase=phase, acceleration={"stateStrengthDelta": now_delta})
    result = run(state, entry_strength_delta=None if entry_delta is None else D(entry_delta), option_type=option_type)
    assert (R.ACCELERATION_DECAY in result.noted) is fires
    assert result.stop.convert is fires
    if fires:
        assert result.stop.tighten == D("0.8")


def test_acceleration_decay_in_a_loss_keeps_only_the_trailing_conversion():
    state = bias_state(trendPhase="LATE", acceleration={"stateStrengthDelta": -3})
    result = run(state, pnl="-5", entry_strength_delta=D("5"))
    assert (result.stop.tighten, result.stop.convert, result.noted) == (None, True, ())


def test_regime_flip_invalidates_breakout_entries_only():
    state = bias_state(transitions={"regimeFlip": True})
    assert run(state, entry_mode_hint="BREAKOUT").full == (R.REGIME_FLIP_INVALIDATION,)
    assert run(state, entry_mode_hint="PULLBACK").full == ()


@pytest.mark.parametrize(
    ("macro", "pnl", "widened"),
    [("MACRO_TREND_UP", "5", True), ("MACRO_RANGE", "5", False), ("MACRO_TREND_UP", "0", False)],
)
def test_volatility_expansion_widens_a_winning_aligned_position(macro, pnl, widened):
    result = run(bias_state(atrState15m="EXPANDING", macroClass=macro), pnl=pnl)
    assert (result.stop.widen == D("1.15")) is widened
    assert (R.VOLATILITY_EXPANSION_PROTECT_RUN in result.noted) is widened


def test_tighten_beats_widen():
    state = bias_state(atrState15m="EXPANDING", macroClass="MACRO_TREND_UP", trendPhase="LATE",
                       acceleration={"stateStrengthDelta": -2})
    result = run(state, entry_strength_delta=D("4"))
    assert (result.stop.tighten, result.stop.widen) == (D("0.8"), None)


@pytest.mark.parametrize(
    ("option_type", "liquidity", "fires"),
    [
        ("call", {"sweepHigh": True}, True),
        ("call", {"sweepHigh": True, "reclaim": True}, False),
        ("call", {"sweepLow": True}, False),
        ("put", {"sweepLow": True}, True),  # the original only checked calls
    ],
)
def test_liquidity_trap(option_type, liquidity, fires):
    result = run(bias_state(liquidity=liquidity), option_type=option_type)
    assert (R.LIQUIDITY_TRAP_EXIT in result.full) is fires


def test_full_exit_clears_every_other_output():
    state = bias_state(acceleration={"macroDriftScore": 0.2}, liquidity={"sweepHigh": True})
    result = run(state)
    assert result.full == (R.LIQUIDITY_TRAP_EXIT,)
    assert (result.partial, result.stop.empty) == (None, True)
    assert R.MACRO_DRIFT_EXIT_PRESSURE in result.noted
