"""Adaptive tuner rules, statistics and bounds (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bias_app.defaults import BIAS_CONFIG_DEFAULTS
from bias_app.engines.tuner import (
    MAX_TRADES,
    TradeSample,
    acceleration_bucket,
    bounded,
    propose_changes,
    rolling_stats,
)

NOW = datetime(2026, 3, 13, 21, 0, tzinfo=UTC)
RISK = BIAS_CONFIG_DEFAULTS["risk"]
ADAPTIVE = BIAS_CONFIG_DEFAULTS["adaptive"]


def trades(n, pnl="1", *, age=timedelta(hours=1), **fields) -> list[TradeSample]:
    return [TradeSample(closed_at=NOW - age - timedelta(minutes=i), pnl_percent=D(pnl), **fields) for i in range(n)]


def changes(samples, risk=RISK, adaptive=ADAPTIVE) -> dict[str, tuple[float, float]]:
    return {c.parameter: (c.previous, c.new) for c in propose_changes(rolling_stats(samples, NOW), risk, adaptive)}


@pytest.mark.parametrize(("value", "bucket"), [
    (None, "unknown"), (D("15.0001"), "high"), (D("15"), "mid"), (D("0.0001"), "mid"), (D("0"), "low"),
    (D("-14.9999"), "low"), (D("-15"), "negative"),
])
def test_acceleration_buckets(value, bucket):
    assert acceleration_bucket(value) == bucket


def test_window_is_fourteen_days_and_fifty_trades():
    samples = trades(60) + trades(5, age=timedelta(days=14, minutes=1))
    stats = rolling_stats(samples, NOW)
    assert stats.trade_count == MAX_TRADES
    assert rolling_stats(trades(1, age=timedelta(days=14)), NOW).trade_count == 1  # exactly 14 days: inside


def test_statistics():
    samples = trades(3, "2", pnl_r=D("0.04")) + trades(1, "-4", pnl_r=D("-0.08"))
    stats = rolling_stats(samples, NOW)
    assert (stats.overall.win_rate, stats.overall.avg_pnl_percent, stats.avg_r) == (D("0.7500"), D("0.5000"), D("0.0100"))
    assert stats.as_metrics()["tradeCount"] == 4


def test_nothing_changes_below_ten_trades():
    assert changes(trades(9, "5", entry_acceleration=D("20"))) == {}


@pytest.mark.parametrize(("wins", "losses", "current", "expected"), [
    (1, 4, 0.70, 0.65),  # 20 % win rate: halfway toward 0.60
    (1, 4, 0.90, 0.80),  # halfway would be 0.15: one step is at most 0.10
    (1, 4, 0.62, None),  # a 0.01 move is noise
    (1, 4, 0.55, None),  # below the target: bad results never raise it
    (2, 3, 0.70, None),  # 40 % win rate: fine
    (0, 5, 0.70, 0.65),  # 0 % still counts (the original ignored it)
    (0, 4, 0.70, None),  # too few breakouts in range
])
def test_range_breakout_multiplier(wins, losses, current, expected):
    context = {"entry_regime": "RANGE", "entry_intent": "BREAKOUT"}
    samples = trades(wins, "5", **context) + trades(losses, "-5", **context) + trades(10, "1")
    result = changes(samples, risk={**RISK, "rangeBreakoutMultiplier": current})
    assert result.get("rangeBreakoutMultiplier") == (None if expected is None else (current, expected))


@pytest.mark.parametrize(("avg", "current", "expected"), [
    ("1.51", 1.10, 1.15), ("1.5", 1.10, None), ("3", 1.18, 1.2), ("3", 1.2, None), ("3", 1.5, None),  # operator's 1.5 kept
])
def test_state_strength_up_multiplier(avg, current, expected):
    samples = trades(5, avg, entry_acceleration=D("20")) + trades(5, "0")
    result = changes(samples, risk={**RISK, "stateStrengthUpMultiplier": current})
    assert result.get("stateStrengthUpMultiplier") == (None if expected is None else (current, expected))


@pytest.mark.parametrize(("count", "avg", "current", "expected"), [
    (3, "0.29", 0.18, 0.198), (2, "0.29", 0.18, None), (3, "0.3", 0.18, None), (3, "-2", 0.24, 0.25), (3, "-2", 0.25, None),
])
def test_macro_drift_threshold(count, avg, current, expected):
    samples = trades(count, avg, exit_reason_codes=("macro_drift_exit_pressure",)) + trades(10, "1")
    result = changes(samples, adaptive={**ADAPTIVE, "macroDriftThreshold": current})
    assert result.get("macroDriftThreshold") == (None if expected is None else (current, expected))


def test_late_phase_negative_multiplier_uses_negative_acceleration_entries():
    samples = trades(5, "1.01", entry_acceleration=D("-20")) + trades(5, "0")
    assert changes(samples)["latePhaseNegativeMultiplier"] == (0.75, 0.85)
    assert "latePhaseNegativeMultiplier" not in changes(trades(5, "1", entry_acceleration=D("-20")) + trades(5, "0"))
    assert changes(samples, risk={**RISK, "latePhaseNegativeMultiplier": 0.95})["latePhaseNegativeMultiplier"] == (0.95, 1.0)


@pytest.mark.parametrize(("name", "current", "proposed", "expected"), [
    ("rangeBreakoutMultiplier", "0.7", "0.2", "0.60"),  # step bound
    ("rangeBreakoutMultiplier", "0.55", "0.4", "0.50"),  # range bound
    ("macroDriftThreshold", "0.2", "0.3", "0.2200"),
    ("macroDriftThreshold", "0.3", "0.2", None),  # outside the range: the operator's value stays
    ("stateStrengthUpMultiplier", "1.1", "1.1", None),
])
def test_bounds(name, current, proposed, expected):
    assert bounded(name, D(current), D(proposed)) == (None if expected is None else D(expected))
