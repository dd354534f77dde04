"""The tiered exit decision engine at its boundaries (pure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from positions_app.engines import exit_reasons as R
from positions_app.engines.exit_tiers import evaluate_tiers
from tests.positions_app.builders import NOW, D, bias_state, greeks, quote, view


def run(position=None, q=None, bias=None, pnl="0"):
    return evaluate_tiers(position or view(), q or quote(), bias, pnl_pct=D(pnl), now=NOW)


# --- tier 1 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("option_type", "underlying_now", "fires"),
    [("call", "588", True), ("call", "588.01", False), ("put", "612", True), ("put", "611.99", False)],
)
def test_thesis_invalidation_uses_the_stored_underlying_entry_price(option_type, underlying_now, fires):
    position = view(option_type=option_type, underlying_entry_price=D("600"))  # SWING: 2 % against
    result = run(position, quote(underlying_price=D(underlying_now)))
    assert (R.THESIS_INVALIDATION in result.full) is fires


def test_no_thesis_verdict_without_an_underlying_entry_price():
    assert run(view(), quote(underlying_price=D("100"))).full == ()


@pytest.mark.parametrize(("minutes", "fires"), [(90, False), (91, True)])
def test_scalp_max_hold(minutes, fires):
    position = view(setup_type="SCALP", entry_timestamp=NOW - timedelta(minutes=minutes))
    assert (R.SCALP_MAX_HOLD_EXCEEDED in run(position, pnl="50").full) is fires


@pytest.mark.parametrize(("held", "fires"), [(timedelta(days=3), True), (timedelta(days=3) - timedelta(minutes=1), False)])
def test_theta_burn_limit(held, fires):
    # |θ| 0.50/day on a 5.00 option burns 10 % a day: the SWING limit (30 %) after three days.
    position = view(entry_timestamp=NOW - held)
    result = run(position, quote(greeks=greeks(theta="-0.50")), pnl="50")
    assert (R.THETA_BURN_LIMIT in result.full) is fires


# --- tier 2 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("bid", "ask", "fires"), [("4.50", "5.50", True), ("4.51", "5.49", False)])
def test_liquidity_deterioration_at_a_20_percent_spread(bid, ask, fires):
    result = run(q=quote(bid=D(bid), ask=D(ask)), pnl="10")
    assert (result.full == (R.LIQUIDITY_DETERIORATION,)) is fires


def test_no_liquidity_verdict_without_a_real_bid_and_ask():
    assert run(q=quote(bid=None, ask=None)).full == ()


@pytest.mark.parametrize(("option_type", "bias", "fires"), [("call", "BEARISH", True), ("put", "BULLISH", True),
                                                            ("call", "BULLISH", False), ("put", "NEUTRAL", False)])
def test_regime_flip_against_the_option(option_type, bias, fires):
    result = run(view(option_type=option_type), bias=bias_state(bias=bias), pnl="10")
    assert (R.REGIME_FLIP in result.full) is fires


@pytest.mark.parametrize(
    ("minutes", "pnl", "taken", "key"),
    [
        (15, "4.99", (), "progress_check_failed:15m"),
        (15, "5", (), None),
        (14, "0", (), None),
        (31, "9", ("progress_check_failed:15m",), "progress_check_failed:30m"),
        (31, "9", ("progress_check_failed:15m", "progress_check_failed:30m"), None),  # each fires once
    ],
)
def test_progress_checks_fire_once_each(minutes, pnl, taken, key):
    position = view(setup_type="SCALP", entry_timestamp=NOW - timedelta(minutes=minutes), partials_taken=taken)
    result = run(position, pnl=pnl)
    if key is None:
        assert result.partial is None
    else:
        assert (result.partial.code, result.partial.fraction, result.partial.keys) == (R.PROGRESS_CHECK_FAILED, D("0.50"), (key,))


# --- tier 3 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("pnl", "taken", "fraction", "keys"),
    [
        ("24.99", (), None, None),
        ("25", (), "0.33", ("profit_target_reached:25",)),
        ("55", (), "0.50", ("profit_target_reached:25", "profit_target_reached:50")),  # gap: lower rung marked too
        ("55", ("profit_target_reached:25",), "0.50", ("profit_target_reached:50",)),
        ("55", ("profit_target_reached:25", "profit_target_reached:50"), None, None),
        ("30", ("profit_target_reached:25", "profit_target_reached:50"), None, None),  # fell back: nothing new
    ],
)
def test_profit_ladder_rungs_fire_once(pnl, taken, fraction, keys):
    result = run(view(partials_taken=taken), pnl=pnl)
    if fraction is None:
        assert result.partial is None
    else:
        assert (result.partial.code, result.partial.fraction, result.partial.keys) == (R.PROFIT_TARGET_REACHED, D(fraction), keys)


# --- tier 4 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("held", "fires"), [(timedelta(days=7), True), (timedelta(days=7) - timedelta(minutes=1), False)])
def test_time_stop(held, fires):
    result = run(view(entry_timestamp=NOW - held), pnl="20")  # above the 3d/7d progress minimums
    assert ((result.partial.keys if result.partial else ()) == ("time_stop:7d",)) is fires


@pytest.mark.parametrize(("delta_now", "fires"), [("0.35", True), ("0.3501", False)])
def test_delta_decay_tightens_to_90_percent_of_the_mark(delta_now, fires):
    position = view(greeks_at_entry=greeks(delta="0.50"))
    result = run(position, quote("6.00", greeks=greeks(delta=delta_now)), pnl="20")
    assert (R.DELTA_DECAY in result.noted) is fires
    assert result.stop.absolute == (D("5.4000") if fires else None)


@pytest.mark.parametrize(
    ("theta_entry", "theta_now", "fires"),
    [
        ("-0.05", "-0.08", True),  # > 1.5 × the entry theta scaled by √(DTE ratio ≈ 1)
        ("-0.05", "-0.07", False),
        ("0", "-0.90", False),  # no entry theta: the original fired here on every position
    ],
)
def test_theta_acceleration_expects_theta_to_grow_toward_expiry(theta_entry, theta_now, fires):
    position = view(greeks_at_entry=greeks(theta=theta_entry))
    result = run(position, quote(greeks=greeks(theta=theta_now)), pnl="20")
    assert (R.THETA_ACCELERATION in result.noted) is fires


def test_theta_acceleration_allows_the_expected_growth_near_expiry():
    # Entered with 5.23 DTE, 4.23 left: expected |θ| = 0.05 × √(5.23/4.23) ≈ 0.0556, limit ≈ 0.0834.
    # At a constant DTE the limit would be 0.075, so 0.08 is the normal growth toward expiry.
    position = view(expiration=date(2026, 3, 17), entry_timestamp=NOW - timedelta(days=1), greeks_at_entry=greeks())
    assert R.THETA_ACCELERATION not in run(position, quote(greeks=greeks(theta="-0.08")), pnl="20").noted
    assert R.THETA_ACCELERATION in run(position, quote(greeks=greeks(theta="-0.09")), pnl="20").noted


@pytest.mark.parametrize(("setup", "gamma_now", "fires"), [("SWING", "0.015", True), ("SWING", "0.0151", False), ("POSITION", "0.001", False)])
def test_gamma_stall(setup, gamma_now, fires):
    position = view(setup_type=setup, greeks_at_entry=greeks(gamma="0.03"))
    result = run(position, quote(greeks=greeks(gamma=gamma_now)), pnl="20")
    assert ((result.partial.code if result.partial else None) == R.GAMMA_STALL) is fires


@pytest.mark.parametrize(
    ("iv_now", "vega", "code"),
    [("0.21", "0.15", R.VEGA_IV_SHOCK), ("0.21", "0.14", None), ("0.2101", "0.40", None),
     ("0.45", "0.40", R.VEGA_IV_SPIKE), ("0.4499", "0.40", None)],
)
def test_vega_rules(iv_now, vega, code):
    position = view(iv_at_entry=D("0.30"))
    result = run(position, quote(iv=D(iv_now), greeks=greeks(vega=vega)), pnl="20")
    assert (result.partial.code if result.partial else None) == code
    if code:
        assert result.partial.fraction == D("0.25")


def test_degradation_partials_fire_once_each():
    position = view(iv_at_entry=D("0.30"), partials_taken=(R.VEGA_IV_SPIKE,))
    assert run(position, quote(iv=D("0.45")), pnl="20").partial is None


def test_evaluation_stops_at_the_first_tier_that_asks():
    position = view(setup_type="SCALP", entry_timestamp=NOW - timedelta(minutes=100), greeks_at_entry=greeks(delta="0.5"))
    result = run(position, quote(greeks=greeks(delta="0.1")), pnl="40")
    assert result.full == (R.SCALP_MAX_HOLD_EXCEEDED,)
    assert result.partial is None and result.stop.empty
