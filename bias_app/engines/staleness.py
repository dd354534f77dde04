"""Bias staleness, computed on read (SPEC §4): one rule, driven by config and the NYSE calendar.

Threshold: `rthThresholdMinutes` while the regular session is open (by the calendar, holidays and
13:00 early closes included), else `dailyThresholdMinutes`. Stale means strictly older than the
threshold, so a state exactly at the threshold is still fresh. The state's own `session` field
does not matter: what counts is whether the market is trading *now*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bias_app.engines.config import StalenessConfig
from optionsengine.lib.market_calendar import is_regular_hours


@dataclass(frozen=True)
class Staleness:
    is_stale: bool
    age_minutes: float  # exact; `staleness_minutes` is the 1-dp display value
    threshold_minutes: float
    regular_hours: bool

    @property
    def staleness_minutes(self) -> float:
        return round(self.age_minutes, 1)

    def describe(self) -> str:
        window = "regular hours" if self.regular_hours else "outside regular hours"
        return f"bias state is {self.staleness_minutes:g} min old (threshold {self.threshold_minutes:g} min, {window})"


def compute_staleness(updated_at_ms: int, now: datetime, config: StalenessConfig) -> Staleness:
    # A state stamped slightly ahead of `now` (producer clock skew) counts as age 0, not negative.
    age_minutes = max(0, now_ms(now) - updated_at_ms) / 60_000
    regular = is_regular_hours(now)
    threshold = config.rth_threshold_minutes if regular else config.daily_threshold_minutes
    return Staleness(is_stale=age_minutes > threshold, age_minutes=age_minutes, threshold_minutes=threshold, regular_hours=regular)


def with_staleness(state: Mapping, now: datetime, config: StalenessConfig) -> dict:
    """A copy of `state` with fresh `isStale` / `stalenessMinutes`.

    A state without a usable integer `updatedAtMs` (hand-written or damaged) has no known age, so it
    is treated as infinitely old: stale, which the entry gate turns into a reason, never a crash.
    """
    updated = state.get("updatedAtMs")
    usable = isinstance(updated, int) and not isinstance(updated, bool)
    staleness = compute_staleness(updated if usable else 0, now, config)
    return {**state, "isStale": staleness.is_stale, "stalenessMinutes": staleness.staleness_minutes}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_ms(now: datetime) -> int:
    """Epoch milliseconds, exact (integer arithmetic, no float rounding at the boundary)."""
    return (now - _EPOCH) // timedelta(milliseconds=1)
