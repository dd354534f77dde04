"""Flow × gamma confluence: every factor branch, the score's rounding, tier and threshold boundaries,
and the data-outage fix (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.types import DealerPosition, FlowEntry, GexSnapshot, OptionContract, OptionsFlow
from signals_app.engines.confluence import compute_confluence, flow_direction, sizing_tier
from signals_app.engines.snapshot import LONG, SHORT

NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
LONG_G, SHORT_G, NEUTRAL_G = DealerPosition.LONG_GAMMA, DealerPosition.SHORT_GAMMA, DealerPosition.NEUTRAL


def gex(position: DealerPosition = NEUTRAL_G) -> GexSnapshot:
    return GexSnapshot("SPY", Decimal("600"), Decimal("0"), Decimal("0"), Decimal("0"), None, position, NOW, "test")


def entry(right: OptionRight, side: str, premium: str = "100") -> FlowEntry:
    contract = OptionContract("SPY", NOW.date(), right, Decimal("600"))
    return FlowEntry(contract, side, 1, Decimal(premium) / 100, Decimal(premium), NOW)


def tape(*entries: FlowEntry) -> OptionsFlow:
    return OptionsFlow("SPY", entries, NOW, "test")


def bullish(count: int = 1) -> OptionsFlow:
    return tape(*[entry(OptionRight.CALL, "buy")] * count)


def bearish(count: int = 1) -> OptionsFlow:
    return tape(*[entry(OptionRight.PUT, "buy")] * count)


def balanced(count: int) -> OptionsFlow:
    """`count` entries (even) whose bullish and bearish premium cancel: a neutral but busy tape."""
    return tape(*[entry(OptionRight.CALL, "buy"), entry(OptionRight.PUT, "buy")] * (count // 2))


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (None, "neutral"),
        (tape(), "neutral"),
        (tape(entry(OptionRight.CALL, "buy")), "bullish"),  # bought calls
        (tape(entry(OptionRight.PUT, "sell")), "bullish"),  # sold puts
        (tape(entry(OptionRight.PUT, "buy")), "bearish"),
        (tape(entry(OptionRight.CALL, "sell")), "bearish"),
        (tape(entry(OptionRight.CALL, "buy", "100"), entry(OptionRight.PUT, "buy", "100")), "neutral"),
        (tape(entry(OptionRight.CALL, "buy", "100.01"), entry(OptionRight.PUT, "buy", "100")), "bullish"),
        (tape(entry(OptionRight.CALL, "buy", "99.99"), entry(OptionRight.PUT, "buy", "100")), "bearish"),
    ],
)
def test_flow_direction_is_the_sign_of_the_net_premium(flow, expected):
    assert flow_direction(flow) == expected


# Every (signal, flow, dealer gamma) combination → (flow_gamma, signal_flow, signal_gamma), per reference §2.6.
FACTOR_TABLE = [
    (LONG, bullish(), SHORT_G, (90, 90, 90)),
    (LONG, bullish(), LONG_G, (60, 90, 60)),
    (LONG, bullish(), NEUTRAL_G, (50, 90, 50)),
    (LONG, bearish(), SHORT_G, (60, 30, 90)),
    (LONG, bearish(), LONG_G, (90, 30, 60)),
    (LONG, bearish(), NEUTRAL_G, (50, 30, 50)),
    (LONG, balanced(2), SHORT_G, (50, 50, 90)),
    (LONG, balanced(2), LONG_G, (50, 50, 60)),
    (LONG, balanced(2), NEUTRAL_G, (50, 50, 50)),
    (SHORT, bullish(), SHORT_G, (90, 30, 60)),
    (SHORT, bullish(), LONG_G, (60, 30, 90)),
    (SHORT, bullish(), NEUTRAL_G, (50, 30, 50)),
    (SHORT, bearish(), SHORT_G, (60, 90, 60)),
    (SHORT, bearish(), LONG_G, (90, 90, 90)),
    (SHORT, bearish(), NEUTRAL_G, (50, 90, 50)),
    (SHORT, balanced(2), SHORT_G, (50, 50, 60)),
    (SHORT, balanced(2), LONG_G, (50, 50, 90)),
    (SHORT, balanced(2), NEUTRAL_G, (50, 50, 50)),
]


@pytest.mark.parametrize(("direction", "flow", "position", "expected"), FACTOR_TABLE)
def test_factors_follow_the_reference_table_for_every_combination(direction, flow, position, expected):
    factors = compute_confluence(direction, gex(position), flow).factors
    assert (factors["flow_gamma"], factors["signal_flow"], factors["signal_gamma"]) == expected
    assert (factors["flow_direction"], factors["gamma_regime"]) == (flow_direction(flow), position.value)


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (None, 50),  # unknown is neutral, not weak
        (tape(), 40),  # the tape answered and nothing traded
        (bullish(1), 54.5154),  # 50 + 15·log10(2)
        (bullish(9), 65),  # 50 + 15·log10(10)
        (bullish(98), 79.9345),  # 50 + 15·log10(99), just under the cap
        (bullish(99), 80),  # log10(100) = 2 → the cap exactly
        (bullish(150), 80),
    ],
)
def test_flow_strength_grows_with_the_log_of_the_entry_count_up_to_80(flow, expected):
    assert compute_confluence(LONG, gex(), flow).factors["flow_strength"] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("direction", "position", "flow", "score", "tier", "multiplier"),
    [
        # 0.30·flow_gamma + 0.35·signal_flow + 0.25·signal_gamma + 0.10·flow_strength, rounded half up.
        (LONG, SHORT_G, bullish(99), 89, "full", "1"),  # 27 + 31.5 + 22.5 + 8: the best case
        (LONG, LONG_G, bullish(1), 70, "full", "1"),  # 18 + 31.5 + 15 + 5.45 = 69.95
        (LONG, LONG_G, balanced(22), 55, "half", "0.5"),  # 15 + 17.5 + 15 + 7.04 = 55.04
        (LONG, LONG_G, balanced(20), 54, "quarter", "0.25"),  # 15 + 17.5 + 15 + 6.98 = 54.48
        (LONG, NEUTRAL_G, bearish(9), 45, "quarter", "0.25"),  # 15 + 10.5 + 12.5 + 6.5 = 44.5, half up
        (LONG, NEUTRAL_G, bearish(8), 44, "none", "0"),  # 15 + 10.5 + 12.5 + 6.43 = 44.43
        (SHORT, LONG_G, bearish(99), 89, "full", "1"),
        (SHORT, NEUTRAL_G, bullish(8), 44, "none", "0"),
    ],
)
def test_score_is_the_weighted_factors_rounded_half_up_and_picks_the_tier(direction, position, flow, score, tier, multiplier):
    result = compute_confluence(direction, gex(position), flow)
    assert (result.score, result.tier, result.multiplier) == (score, tier, Decimal(multiplier))
    assert isinstance(result.multiplier, Decimal)


@pytest.mark.parametrize(
    ("score", "tier", "multiplier"),
    [
        (100, "full", "1"),
        (70, "full", "1"),
        (69, "half", "0.5"),  # unreachable from real inputs (scores jump 67 → 70) but the rule holds
        (55, "half", "0.5"),
        (54, "quarter", "0.25"),
        (45, "quarter", "0.25"),
        (44, "none", "0"),
        (0, "none", "0"),
    ],
)
def test_sizing_tier_boundaries(score, tier, multiplier):
    assert sizing_tier(score) == (tier, Decimal(multiplier))


@pytest.mark.parametrize(
    ("position", "flow", "threshold", "gate_enabled", "score", "passes"),
    [
        (NEUTRAL_G, tape(), 50, True, 49, False),  # neutral gamma, empty tape: 15 + 17.5 + 12.5 + 4
        (NEUTRAL_G, tape(), 49, True, 49, True),
        (NEUTRAL_G, tape(), 50, False, 49, True),  # gate disabled: scored, never blocks
        (NEUTRAL_G, None, 50, True, 50, True),  # flow unknown counts as neutral (50), not weak (40)
        (NEUTRAL_G, None, 51, True, 50, False),
        (LONG_G, bullish(1), 100, False, 70, True),
    ],
)
def test_the_gate_passes_at_or_above_the_threshold_or_when_disabled(position, flow, threshold, gate_enabled, score, passes):
    result = compute_confluence(LONG, gex(position), flow, threshold=threshold, gate_enabled=gate_enabled)
    assert (result.score, result.passes) == (score, passes)


@pytest.mark.parametrize(("threshold", "gate_enabled"), [(50, True), (100, True), (50, False)])
def test_an_outage_of_both_gex_and_flow_skips_the_gate_at_half_size(threshold, gate_enabled):
    result = compute_confluence(SHORT, None, None, threshold=threshold, gate_enabled=gate_enabled)
    assert (result.score, result.tier, result.multiplier, result.passes) == (None, "unknown", Decimal("0.5"), True)
    assert "outage" in result.factors["note"]


@pytest.mark.parametrize(
    ("gex_", "flow", "score", "note"),
    [
        # No GEX: gamma neutral → 15 + 31.5 + 12.5 + 5.45 = 64.45.
        (None, bullish(1), 64, "no GEX: counted as neutral"),
        # No flow: flow neutral, strength 50 → 15 + 17.5 + 22.5 (long into short gamma) + 5 = 60.
        (gex(SHORT_G), None, 60, "no options flow: counted as neutral"),
    ],
)
def test_a_single_missing_input_counts_as_neutral_and_says_so(gex_, flow, score, note):
    result = compute_confluence(LONG, gex_, flow)
    assert (result.score, result.tier, result.factors["note"]) == (score, "half", note)


def test_both_inputs_present_leave_no_note():
    assert "note" not in compute_confluence(LONG, gex(), bullish()).factors


@pytest.mark.parametrize("direction", ["buy", "", "LONG"])
def test_an_unnormalized_direction_is_a_programming_error(direction):
    with pytest.raises(ValueError, match="direction"):
        compute_confluence(direction, gex(), bullish())
