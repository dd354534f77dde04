"""Adaptive tuner (reference execution-exits-pnl §6, bugs fixed). Pure: rows in, proposals out.

Rolling statistics cover the newest `MAX_TRADES` completed trades closed in the last
`WINDOW_DAYS` days, from the sources the caller selected (`live` only by default — the original
mixed simulation rows in). Performance is measured in **percent of premium** (`pnl_percent`):
the original's thresholds (avg 1.5 / 1.0 / 0.3) were calibrated on its "R", which was 1 % of
premium, so they keep their meaning here; true R (`pnl_r`, realized ÷ initial risk) is reported
in the metrics.

Rules (each needs `MIN_BUCKET_TRADES` trades in its bucket — the original's `0 < win rate` test
ignored a 0 % win rate and acted on single trades):
- `risk.rangeBreakoutMultiplier`: breakouts entered in a RANGE regime win < 35 % → move halfway
  toward 0.60 (never upward on bad results);
- `risk.stateStrengthUpMultiplier`: trades entered with high acceleration (> 15) average > 1.5 %
  → +0.05;
- `adaptive.macroDriftThreshold`: ≥ 3 macro-drift exits averaging < 0.3 % → +10 % (exits were
  premature, so demand more drift);
- `risk.latePhaseNegativeMultiplier`: trades entered with negative acceleration (≤ −15) average
  > 1.0 % → +0.10 (the original keyed this on a "LATE" regime no row ever has).
Every change is bounded by `BOUNDS` (range and largest step per run); a value an operator set
outside its range is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

WINDOW_DAYS = 14
MAX_TRADES = 50
MIN_TRADES = 10
MIN_BUCKET_TRADES = 5
MIN_MACRO_DRIFT_EXITS = 3
MACRO_DRIFT_CODE = "macro_drift_exit_pressure"


@dataclass(frozen=True)
class TradeSample:
    closed_at: datetime
    pnl_percent: Decimal
    pnl_r: Decimal | None = None
    entry_regime: str | None = None
    entry_intent: str | None = None
    entry_macro_class: str | None = None
    entry_acceleration: Decimal | None = None
    exit_reason_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bucket:
    count: int = 0
    win_rate: Decimal | None = None
    avg_pnl_percent: Decimal | None = None

    @classmethod
    def of(cls, samples: list[TradeSample]) -> Bucket:
        if not samples:
            return cls()
        wins = sum(1 for s in samples if s.pnl_percent > 0)
        total = sum((s.pnl_percent for s in samples), Decimal(0))
        return cls(len(samples), _q(Decimal(wins) / len(samples)), _q(total / len(samples)))

    def as_dict(self) -> dict:
        return {"count": self.count, "winRate": _f(self.win_rate), "avgPnlPercent": _f(self.avg_pnl_percent)}


@dataclass(frozen=True)
class RollingStats:
    overall: Bucket
    avg_r: Decimal | None
    by_regime: dict[str, Bucket] = field(default_factory=dict)
    by_macro_class: dict[str, Bucket] = field(default_factory=dict)
    by_acceleration: dict[str, Bucket] = field(default_factory=dict)
    breakout_in_range: Bucket = Bucket()
    mean_reversion_in_trend: Bucket = Bucket()
    macro_drift_exits: Bucket = Bucket()

    @property
    def trade_count(self) -> int:
        return self.overall.count

    def as_metrics(self) -> dict:
        """JSON for `rolling_metrics` and the run summary."""
        return {
            "tradeCount": self.trade_count,
            "winRate": _f(self.overall.win_rate),
            "avgPnlPercent": _f(self.overall.avg_pnl_percent),
            "avgR": _f(self.avg_r),
            "byRegime": {k: v.as_dict() for k, v in sorted(self.by_regime.items())},
            "byMacroClass": {k: v.as_dict() for k, v in sorted(self.by_macro_class.items())},
            "byAcceleration": {k: v.as_dict() for k, v in sorted(self.by_acceleration.items())},
            "breakoutInRange": self.breakout_in_range.as_dict(),
            "meanReversionInTrend": self.mean_reversion_in_trend.as_dict(),
            "macroDriftExits": self.macro_drift_exits.as_dict(),
        }


@dataclass(frozen=True)
class ParameterBound:
    config_key: str
    minimum: Decimal
    maximum: Decimal
    max_step: Decimal
    places: int


BOUNDS: dict[str, ParameterBound] = {
    "rangeBreakoutMultiplier": ParameterBound("risk", Decimal("0.5"), Decimal("0.9"), Decimal("0.10"), 2),
    "stateStrengthUpMultiplier": ParameterBound("risk", Decimal("1.0"), Decimal("1.2"), Decimal("0.05"), 2),
    "latePhaseNegativeMultiplier": ParameterBound("risk", Decimal("0.7"), Decimal("1.0"), Decimal("0.10"), 2),
    "macroDriftThreshold": ParameterBound("adaptive", Decimal("0.15"), Decimal("0.25"), Decimal("0.02"), 4),
}
RANGE_BREAKOUT_TARGET = Decimal("0.60")
MIN_CHANGE = Decimal("0.01")  # smaller moves of a multiplier are noise


@dataclass(frozen=True)
class ProposedChange:
    config_key: str
    parameter: str
    previous: float
    new: float
    reason: str


def _q(value: Decimal, places: int = 4) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def acceleration_bucket(value: Decimal | None) -> str:
    if value is None:
        return "unknown"
    if value > 15:
        return "high"
    if value > 0:
        return "mid"
    if value > -15:
        return "low"
    return "negative"


def _is_macro_drift_exit(codes: Iterable[str]) -> bool:
    return any(code == MACRO_DRIFT_CODE or "macro_drift" in code.lower() or "macro drift" in code.lower() for code in codes)


def _group(samples: list[TradeSample], key) -> dict[str, Bucket]:
    groups: dict[str, list[TradeSample]] = {}
    for sample in samples:
        groups.setdefault(key(sample), []).append(sample)
    return {name: Bucket.of(rows) for name, rows in groups.items()}


def rolling_stats(samples: Iterable[TradeSample], now: datetime) -> RollingStats:
    since = now - timedelta(days=WINDOW_DAYS)
    window = sorted((s for s in samples if since <= s.closed_at <= now), key=lambda s: s.closed_at, reverse=True)
    window = window[:MAX_TRADES]
    rs = [s.pnl_r for s in window if s.pnl_r is not None]
    return RollingStats(
        overall=Bucket.of(window),
        avg_r=_q(sum(rs, Decimal(0)) / len(rs)) if rs else None,
        by_regime=_group(window, lambda s: s.entry_regime or "unknown"),
        by_macro_class=_group(window, lambda s: s.entry_macro_class or "unknown"),
        by_acceleration=_group(window, lambda s: acceleration_bucket(s.entry_acceleration)),
        breakout_in_range=Bucket.of([s for s in window if s.entry_regime == "RANGE" and s.entry_intent == "BREAKOUT"]),
        mean_reversion_in_trend=Bucket.of(
            [s for s in window if s.entry_regime == "TREND" and s.entry_intent in ("MEAN_REVERT", "PULLBACK")]
        ),
        macro_drift_exits=Bucket.of([s for s in window if _is_macro_drift_exit(s.exit_reason_codes)]),
    )


def _number(values: Mapping, name: str) -> Decimal | None:
    value = values.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(str(value))


def bounded(name: str, current: Decimal, proposed: Decimal) -> Decimal | None:
    """`proposed` limited to the parameter's step and range, rounded; None when nothing changes
    or when the current value lies outside the range (an operator's deliberate setting)."""
    bound = BOUNDS[name]
    if not bound.minimum <= current <= bound.maximum:
        return None
    step = max(-bound.max_step, min(bound.max_step, proposed - current))
    result = _q(max(bound.minimum, min(bound.maximum, current + step)), bound.places)
    return None if result == current else result


def propose_changes(stats: RollingStats, risk: Mapping, adaptive: Mapping) -> list[ProposedChange]:
    """Bounded parameter changes the statistics justify (none below `MIN_TRADES` trades)."""
    if stats.trade_count < MIN_TRADES:
        return []
    changes: list[ProposedChange] = []

    def propose(name: str, values: Mapping, proposed_from, reason: str, min_change: Decimal = Decimal(0)) -> None:
        current = _number(values, name)
        if current is None:
            return
        new = bounded(name, current, proposed_from(current))
        if new is not None and abs(new - current) > min_change:
            changes.append(ProposedChange(BOUNDS[name].config_key, name, float(current), float(new), reason))

    breakout = stats.breakout_in_range
    if breakout.count >= MIN_BUCKET_TRADES and breakout.win_rate is not None and breakout.win_rate < Decimal("0.35"):
        propose(
            "rangeBreakoutMultiplier", risk,
            lambda c: c - max(Decimal(0), (c - RANGE_BREAKOUT_TARGET) / 2),
            f"range breakouts won {breakout.win_rate:.0%} of {breakout.count} trades (< 35%)", MIN_CHANGE,
        )
    high = stats.by_acceleration.get("high", Bucket())
    if high.count >= MIN_BUCKET_TRADES and high.avg_pnl_percent is not None and high.avg_pnl_percent > Decimal("1.5"):
        propose(
            "stateStrengthUpMultiplier", risk, lambda c: c + Decimal("0.05"),
            f"high-acceleration entries averaged {high.avg_pnl_percent}% over {high.count} trades (> 1.5%)",
        )
    drift = stats.macro_drift_exits
    if drift.count >= MIN_MACRO_DRIFT_EXITS and drift.avg_pnl_percent is not None and drift.avg_pnl_percent < Decimal("0.3"):
        propose(
            "macroDriftThreshold", adaptive, lambda c: c + c * Decimal("0.10"),
            f"{drift.count} macro-drift exits averaged {drift.avg_pnl_percent}% (< 0.3%): demand more drift",
        )
    negative = stats.by_acceleration.get("negative", Bucket())
    if negative.count >= MIN_BUCKET_TRADES and negative.avg_pnl_percent is not None and negative.avg_pnl_percent > Decimal("1.0"):
        propose(
            "latePhaseNegativeMultiplier", risk, lambda c: c + Decimal("0.10"),
            f"negative-acceleration entries averaged {negative.avg_pnl_percent}% over {negative.count} trades (> 1.0%)",
        )
    return changes
