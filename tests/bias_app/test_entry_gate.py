"""The orchestrator's bias entry gates (SPEC §6), each rule and their order (pure)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bias_app.engines.config import StalenessConfig
from bias_app.engines.gating import (
    BIAS_STATE_STALE,
    MTF_BIAS_MISSING,
    TRADE_SUPPRESSED_BY_BIAS,
    EntryGateConfig,
    entry_gate,
)
from tests.bias_app.builders import NOW, NOW_MS


def staleness(behavior: str) -> StalenessConfig:
    return StalenessConfig.from_mapping(
        {"behavior": behavior, "riskMultiplier": 0.7, "rthThresholdMinutes": 10, "dailyThresholdMinutes": 60}
    )


BLOCK = EntryGateConfig(require_bias=True, staleness=staleness("block"))
REDUCE = EntryGateConfig(require_bias=True, staleness=staleness("reduce_risk"))
OPTIONAL = EntryGateConfig(require_bias=False, staleness=staleness("block"))


def state(*, age_minutes: float = 1, long: bool = False, short: bool = False, notes: tuple = ()) -> dict:
    return {
        "updatedAtMs": NOW_MS - int(age_minutes * 60_000),
        "isStale": False,  # deliberately wrong when old: the gate must recompute, not trust it
        "effective": {"suppressLong": long, "suppressShort": short, "tradeSuppressed": long or short, "notes": list(notes)},
    }


@pytest.mark.parametrize(
    ("bias_state", "direction", "config", "allowed", "reason", "multiplier"),
    [
        # missing bias
        (None, "long", BLOCK, False, MTF_BIAS_MISSING, "1"),
        (None, "short", OPTIONAL, True, None, "1"),
        # direction-aware suppression: only the suppressed side is blocked
        (state(long=True), "long", BLOCK, False, TRADE_SUPPRESSED_BY_BIAS, "1"),
        (state(long=True), "short", BLOCK, True, None, "1"),
        (state(short=True), "short", BLOCK, False, TRADE_SUPPRESSED_BY_BIAS, "1"),
        (state(short=True), "long", BLOCK, True, None, "1"),
        (state(long=True, short=True), "short", BLOCK, False, TRADE_SUPPRESSED_BY_BIAS, "1"),
        (state(long=True), "long", OPTIONAL, False, TRADE_SUPPRESSED_BY_BIAS, "1"),  # a present state still gates
        # staleness at 10:30 New York (regular hours, 10-minute threshold)
        (state(age_minutes=10), "long", BLOCK, True, None, "1"),
        (state(age_minutes=10.01), "long", BLOCK, False, BIAS_STATE_STALE, "1"),
        (state(age_minutes=10.01), "long", REDUCE, True, None, "0.7"),
        # suppression is checked before staleness
        (state(age_minutes=90, short=True), "short", BLOCK, False, TRADE_SUPPRESSED_BY_BIAS, "1"),
    ],
)
def test_entry_gate_rules_in_order(bias_state, direction, config, allowed, reason, multiplier):
    result = entry_gate(bias_state, direction, NOW, config)
    assert (result.allowed, result.reason_code, result.risk_multiplier) == (allowed, reason, Decimal(multiplier))


def test_suppression_detail_names_the_reason():
    result = entry_gate(state(long=True, notes=("Macro MACRO_TREND_DOWN suppresses longs",)), "long", NOW, BLOCK)
    assert result.detail == "long entries suppressed: Macro MACRO_TREND_DOWN suppresses longs"


def test_stale_detail_gives_age_and_threshold():
    result = entry_gate(state(age_minutes=23.44), "long", NOW, BLOCK)
    assert result.detail == "bias state is 23.4 min old (threshold 10 min, regular hours)"


def test_a_state_without_direction_flags_falls_back_to_the_combined_flag():
    legacy = {"updatedAtMs": NOW_MS, "effective": {"tradeSuppressed": True, "notes": []}}
    assert entry_gate(legacy, "short", NOW, BLOCK).reason_code == TRADE_SUPPRESSED_BY_BIAS


def test_outside_regular_hours_the_daily_threshold_applies():
    saturday = NOW + timedelta(days=1)
    old = {"updatedAtMs": NOW_MS + 24 * 3600_000 - 59 * 60_000, "effective": {}}
    assert entry_gate(old, "long", saturday, BLOCK).allowed is True


def test_an_unknown_direction_is_a_programming_error():
    with pytest.raises(ValueError):
        entry_gate(state(), "LONG", NOW, BLOCK)
