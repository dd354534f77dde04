"""`bias_config` merging and typed views (pure).

The stored row wins key by key over `bias_app.defaults`; a known key holding a value of the wrong
type (a typo in the admin) falls back to its default and is reported, so one bad edit cannot stop
every bias update. Keys the code does not know (e.g. the tuner's `lastRunSummary`) pass through.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from bias_app.defaults import BIAS_CONFIG_DEFAULTS

STALENESS_BEHAVIORS = ("block", "reduce_risk")


def _valid(default: object, value: object, key: str, name: str) -> str | None:
    """Why `value` cannot replace `default`, or None when it can."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return "must be a number"
        return None if value >= 0 else "must not be negative"
    if isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        return None if ok else "must be a list of strings"
    if key == "staleness" and name == "behavior":
        return None if value in STALENESS_BEHAVIORS else f"must be one of {', '.join(STALENESS_BEHAVIORS)}"
    if isinstance(default, str):
        return None if isinstance(value, str) else "must be a string"
    return None


def merge_config(key: str, stored: Mapping | None) -> tuple[dict, list[str]]:
    """(defaults overlaid by the stored row, problems found). Unknown config keys raise KeyError."""
    defaults = BIAS_CONFIG_DEFAULTS[key]
    merged = dict(defaults)
    problems: list[str] = []
    if stored is not None and not isinstance(stored, Mapping):
        return merged, [f"{key}: the stored value must be a JSON object"]
    for name, value in (stored or {}).items():
        if name in defaults:
            why = _valid(defaults[name], value, key, name)
            if why is not None:
                problems.append(f"{key}.{name} {why}")
                continue
        merged[name] = value
    return merged, problems


@dataclass(frozen=True)
class GatingConfig:
    macro_suppress_long_classes: frozenset[str]
    macro_suppress_short_classes: frozenset[str]
    breakout_low_space_penalty: float
    reclaim_boost: float
    chop_suppression_threshold: float
    regime_transition_boost: float
    macro_conflict_risk_multiplier: float

    @classmethod
    def from_mapping(cls, values: Mapping) -> GatingConfig:
        return cls(
            macro_suppress_long_classes=frozenset(values["macroSuppressLongClasses"]),
            macro_suppress_short_classes=frozenset(values["macroSuppressShortClasses"]),
            breakout_low_space_penalty=values["breakoutLowSpacePenalty"],
            reclaim_boost=values["reclaimBoost"],
            chop_suppression_threshold=values["chopSuppressionThreshold"],
            regime_transition_boost=values["regimeTransitionBoost"],
            macro_conflict_risk_multiplier=values["macroConflictRiskMultiplier"],
        )

    @classmethod
    def defaults(cls) -> GatingConfig:
        return cls.from_mapping(BIAS_CONFIG_DEFAULTS["gating"])


@dataclass(frozen=True)
class StalenessConfig:
    behavior: str  # "block" | "reduce_risk"
    risk_multiplier: Decimal  # applied to size when stale and behaviour is reduce_risk
    rth_threshold_minutes: float
    daily_threshold_minutes: float

    @classmethod
    def from_mapping(cls, values: Mapping) -> StalenessConfig:
        return cls(
            behavior=values["behavior"],
            risk_multiplier=Decimal(str(values["riskMultiplier"])),
            rth_threshold_minutes=values["rthThresholdMinutes"],
            daily_threshold_minutes=values["dailyThresholdMinutes"],
        )

    @classmethod
    def defaults(cls) -> StalenessConfig:
        return cls.from_mapping(BIAS_CONFIG_DEFAULTS["staleness"])
