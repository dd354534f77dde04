"""Staleness on read: config thresholds, the NYSE calendar and the exact boundaries (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bias_app.engines.config import StalenessConfig
from bias_app.engines.staleness import compute_staleness, now_ms, with_staleness
from optionsengine.lib.market_calendar import MARKET_TZ

DEFAULTS = StalenessConfig.defaults()  # 10 min in regular hours, 60 min otherwise
MS = timedelta(milliseconds=1)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=MARKET_TZ)


@pytest.mark.parametrize(
    ("now", "age", "stale", "regular"),
    [
        # regular hours (Fri 2026-03-13 10:30 New York): 10-minute threshold, exactly 10 is fresh
        (ny(2026, 3, 13, 10, 30), timedelta(minutes=10), False, True),
        (ny(2026, 3, 13, 10, 30), timedelta(minutes=10) + MS, True, True),
        (ny(2026, 3, 13, 10, 30), timedelta(minutes=0), False, True),
        # the regular session starts at 09:30:00 and ends at 16:00:00
        (ny(2026, 3, 13, 9, 29, 59), timedelta(minutes=30), False, False),
        (ny(2026, 3, 13, 9, 30), timedelta(minutes=30), True, True),
        (ny(2026, 3, 13, 15, 59, 59), timedelta(minutes=11), True, True),
        (ny(2026, 3, 13, 16, 0), timedelta(minutes=11), False, False),
        # outside regular hours: 60-minute threshold, exactly 60 is fresh
        (ny(2026, 3, 14, 12, 0), timedelta(minutes=60), False, False),  # Saturday
        (ny(2026, 3, 14, 12, 0), timedelta(minutes=60) + MS, True, False),
        (ny(2026, 3, 13, 20, 0), timedelta(minutes=59), False, False),  # Friday evening
        # holidays and early closes come from the NYSE calendar
        (ny(2026, 4, 3, 11, 0), timedelta(minutes=30), False, False),  # Good Friday
        (ny(2026, 11, 27, 12, 59), timedelta(minutes=30), True, True),  # day after Thanksgiving, before 13:00
        (ny(2026, 11, 27, 13, 30), timedelta(minutes=30), False, False),  # ...after the 13:00 close
    ],
)
def test_staleness_threshold_depends_on_whether_the_market_is_in_regular_hours(now, age, stale, regular):
    result = compute_staleness(now_ms(now - age), now, DEFAULTS)
    assert result.is_stale is stale
    assert result.regular_hours is regular
    assert result.threshold_minutes == (10 if regular else 60)


@pytest.mark.parametrize(
    ("now", "age", "stale"),
    [
        (ny(2026, 3, 13, 10, 30), timedelta(minutes=5), False),
        (ny(2026, 3, 13, 10, 30), timedelta(minutes=5) + MS, True),
        (ny(2026, 3, 14, 12, 0), timedelta(minutes=120), False),
        (ny(2026, 3, 14, 12, 0), timedelta(minutes=120) + MS, True),
    ],
)
def test_thresholds_come_from_the_staleness_config(now, age, stale):
    config = StalenessConfig.from_mapping(
        {"behavior": "block", "riskMultiplier": 0.7, "rthThresholdMinutes": 5, "dailyThresholdMinutes": 120}
    )
    assert compute_staleness(now_ms(now - age), now, config).is_stale is stale


def test_the_states_own_session_does_not_make_a_weekend_use_the_rth_threshold():
    now = ny(2026, 3, 14, 12, 0)
    state = {"updatedAtMs": now_ms(now - timedelta(minutes=30)), "session": "RTH"}
    assert with_staleness(state, now, DEFAULTS)["isStale"] is False


def test_a_state_stamped_ahead_of_the_clock_counts_as_age_zero():
    now = ny(2026, 3, 13, 10, 30)
    result = compute_staleness(now_ms(now + timedelta(minutes=2)), now, DEFAULTS)
    assert (result.is_stale, result.age_minutes) == (False, 0)


def test_with_staleness_returns_a_copy_with_minutes_rounded_to_one_decimal():
    now = ny(2026, 3, 13, 10, 30)
    state = {"updatedAtMs": now_ms(now - timedelta(seconds=754)), "isStale": False, "stalenessMinutes": 0}
    fresh = with_staleness(state, now, DEFAULTS)
    assert fresh["stalenessMinutes"] == 12.6
    assert fresh["isStale"] is True
    assert state["stalenessMinutes"] == 0  # the input is not modified
