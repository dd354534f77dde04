"""Setup type from the timeframe in minutes, and strategy type from the bias state (SPEC §6)."""

from __future__ import annotations

import pytest

from signals_app.engines.setup_type import setup_type_for, strategy_type


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, "SCALP"),
        (5, "SCALP"),
        (15, "SCALP"),
        (16, "SWING"),
        (45, "SWING"),  # the reference sent 45m to SCALP
        (60, "SWING"),  # … and 60m/120m/240m to LEAPS
        (120, "SWING"),
        (240, "SWING"),
        (241, "POSITION"),
        (1440, "POSITION"),
        (10080, "POSITION"),  # one week
        (10081, "LEAPS"),
        (43200, "LEAPS"),  # 1mo (the reference sent "1M" to SCALP)
    ],
)
def test_setup_type_buckets_minutes_with_inclusive_upper_bounds(minutes, expected):
    assert setup_type_for(minutes) == expected


@pytest.mark.parametrize("minutes", [0, -5])
def test_setup_type_refuses_a_timeframe_under_one_minute(minutes):
    with pytest.raises(ValueError):
        setup_type_for(minutes)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"riskContext": {"entryModeHint": "BREAKOUT"}}, "BREAKOUT"),
        ({"riskContext": {"entryModeHint": "PULLBACK"}}, "PULLBACK"),
        ({"riskContext": {"entryModeHint": "MEAN_REVERT"}}, "MEAN_REVERT"),
        ({"riskContext": {"entryModeHint": "NO_TRADE"}}, "SWING"),
        ({"riskContext": {"entryModeHint": None}}, "SWING"),
        ({"riskContext": {"entryModeHint": ["BREAKOUT"]}}, "SWING"),
        ({"riskContext": {}}, "SWING"),
        ({"riskContext": "BREAKOUT"}, "SWING"),
        ({}, "SWING"),
        (None, "SWING"),
    ],
)
def test_strategy_type_is_the_entry_mode_hint_when_it_names_a_strategy(state, expected):
    assert strategy_type(state) == expected
