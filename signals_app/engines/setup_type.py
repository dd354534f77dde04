"""Setup type (from the signal's timeframe) and strategy type (from the bias state) — SPEC §6.

Pure. The reference mapped timeframe *strings* through a lookup that sent 60m/120m/240m to LEAPS,
45m and "1M" to SCALP (orchestrator §9.1 item 6). Here the timeframe is already a number of
minutes (normalized at ingestion), and it is bucketed numerically with inclusive upper bounds.
"""

from __future__ import annotations

from collections.abc import Mapping

from signals_app.engines.snapshot import LEAPS, POSITION, SCALP, SWING
from signals_app.engines.timeframes import timeframe_minutes

# Inclusive upper bounds in minutes: 15m, 4h, 1 week (7 × 24 × 60). Longer (e.g. 1mo) is LEAPS.
SCALP_MAX_MINUTES = 15
SWING_MAX_MINUTES = 240
POSITION_MAX_MINUTES = 10_080

# Strategy types the portfolio guard and setup validator read (reference orchestrator §4.2).
BREAKOUT = "BREAKOUT"
PULLBACK = "PULLBACK"
MEAN_REVERT = "MEAN_REVERT"
STRATEGY_SWING = "SWING"
_HINTED_STRATEGIES = frozenset({BREAKOUT, PULLBACK, MEAN_REVERT})


def setup_type_for(timeframe_minutes: int) -> str:
    """SCALP (≤ 15m), SWING (≤ 4h), POSITION (≤ 1 week), else LEAPS."""
    if timeframe_minutes < 1:
        raise ValueError(f"timeframe must be at least one minute, not {timeframe_minutes!r}")
    if timeframe_minutes <= SCALP_MAX_MINUTES:
        return SCALP
    if timeframe_minutes <= SWING_MAX_MINUTES:
        return SWING
    if timeframe_minutes <= POSITION_MAX_MINUTES:
        return POSITION
    return LEAPS


def strategy_type(bias_state: Mapping | None) -> str:
    """`riskContext.entryModeHint` when it names a strategy; SWING otherwise (NO_TRADE, missing)."""
    risk_context = (bias_state or {}).get("riskContext")
    hint = risk_context.get("entryModeHint") if isinstance(risk_context, Mapping) else None
    return hint if isinstance(hint, str) and hint in _HINTED_STRATEGIES else STRATEGY_SWING


def setup_type_of(timeframe: str | None) -> str | None:
    """SCALP / SWING / POSITION / LEAPS from a canonical timeframe (`5m`, `4h`, `1d`, `1w`, `1mo`);
    None when there is none or it is not canonical."""
    if not timeframe:
        return None
    try:
        return setup_type_for(timeframe_minutes(timeframe))
    except ValueError:
        return None
