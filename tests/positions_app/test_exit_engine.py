"""The four layers combined into one verdict (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from positions_app.engines import exit_reasons as R
from positions_app.engines.exit_engine import evaluate_exit, partial_quantity
from positions_app.engines.exit_inputs import FULL, HOLD, PARTIAL, ExitRulesConfig, ExitSettings
from tests.positions_app.builders import NOW, D, bias_state, quote, view

RULES = ExitRulesConfig()
SETTINGS = ExitSettings()


_DEFAULT = object()


def decide(position=None, q=_DEFAULT, bias=None, *, market_open=True, settings=SETTINGS, rules=RULES):
    return evaluate_exit(position or view(), quote() if q is _DEFAULT else q, bias,
                         rules=rules, settings=settings, now=NOW, market_open=market_open)


@pytest.mark.parametrize(("quantity", "fraction", "expected"), [
    (10, "0.33", 3), (10, "0.25", 3), (3, "0.50", 2), (2, "0.25", 1), (1, "0.30", 1), (4, "0.75", 3),
])
def test_partial_quantity_rounds_half_up_and_closes_at_least_one(quantity, fraction, expected):
    assert partial_quantity(quantity, D(fraction)) == expected


def test_hold_when_nothing_triggers():
    assert decide().action == HOLD


def test_closed_market_evaluates_forced_closes_only():
    assert decide(q=quote("1.00"), market_open=False).action == HOLD  # −80 %: the stop waits for the open
    emergency = decide(q=None, market_open=False, settings=ExitSettings(emergency_risk_off=True))
    assert (emergency.action, emergency.reason, emergency.quantity) == (FULL, R.EMERGENCY_RISK_OFF, 10)


def test_rules_are_enforced_during_the_grace_period_but_intelligence_and_tiers_wait():
    young = view(entry_timestamp=NOW - timedelta(minutes=4))
    assert decide(young, quote("2.50")).reason == R.STOP_LOSS
    drift = bias_state(acceleration={"macroDriftScore": 0.4})
    assert decide(young, quote("5.50"), drift).action == HOLD
    assert decide(view(entry_timestamp=NOW - timedelta(minutes=5)), quote("5.50"), drift).reason == R.MACRO_DRIFT_EXIT_PRESSURE


def test_full_exit_wins_and_lists_every_code_primary_first():
    position = view(partials_taken=())
    result = decide(position, quote("7.60"), bias_state(liquidity={"sweepHigh": True}))
    assert result.action == FULL
    assert result.reason == R.LIQUIDITY_TRAP_EXIT
    # +52 %: the SWING ladder's +50 rung and the exit_rules profit target triggered too.
    assert result.codes == (R.LIQUIDITY_TRAP_EXIT, R.PROFIT_TARGET, R.PROFIT_TARGET_REACHED)


def test_forced_codes_come_first():
    result = decide(q=quote("2.00"), settings=ExitSettings(emergency_risk_off=True))
    assert result.codes[:2] == (R.EMERGENCY_RISK_OFF, R.STOP_LOSS)


def test_partial_exit_records_its_rung():
    result = decide(q=quote("6.25"))  # +25 %: SWING rung 1, exit 33 %
    assert (result.action, result.quantity, result.reason, result.partial_keys) == (
        PARTIAL, 3, R.PROFIT_TARGET_REACHED, ("profit_target_reached:25",)
    )


def test_a_partial_of_the_last_contract_is_a_full_exit():
    result = decide(view(quantity=1), quote("6.25"))
    assert (result.action, result.quantity, result.partial_keys) == (FULL, 1, ("profit_target_reached:25",))


def test_intelligence_partial_goes_before_a_tier_partial():
    result = decide(q=quote("6.25"), bias=bias_state(acceleration={"macroDriftScore": 0.2}))
    assert (result.reason, result.quantity) == (R.MACRO_DRIFT_EXIT_PRESSURE, 3)
    assert R.PROFIT_TARGET_REACHED in result.codes


def test_a_tightened_stop_exits_in_the_same_cycle():
    # Stop 5.80 under a 6.00 mark; decay tightens the distance to 0.8 × 0.20 → 5.84; mark 6.00 holds,
    # while a tier-4 tighten to 90 % of a 5.30 mark (4.77) cannot lower the 5.80 stop: 5.30 breaches.
    decaying = bias_state(trendPhase="LATE", acceleration={"stateStrengthDelta": -3})
    position = view(trailing_stop_price=D("5.80"), entry_strength_delta=D("2"))
    held = decide(position, quote("6.00"), decaying)
    assert (held.action, held.trailing_stop_price) == (HOLD, D("5.8400"))
    breached = decide(position, quote("5.30"), decaying)
    assert (breached.action, breached.reason) == (FULL, R.TRAILING_STOP)


def test_no_quote_during_the_session_means_forced_closes_only():
    stale_loser = view(last_updated=NOW - timedelta(minutes=10), last_pnl_percent=D("-25"))
    result = decide(stale_loser, q=None)
    assert result.reason == R.STALE_DATA_FORCE_CLOSE
    assert decide(view(last_pnl_percent=D("-25")), q=None).action == HOLD
