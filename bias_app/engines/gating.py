"""The bias entry gates the orchestrator runs once per signal (SPEC §6), as one pure function.

Order: `mtf_bias_missing` → `trade_suppressed_by_bias` (for the signal's direction only) →
`bias_state_stale` (behaviour `block`) or, with `reduce_risk`, allowed at `riskMultiplier`.
Staleness is recomputed from `updatedAtMs` and `now`; a stored `isStale` is never trusted.
`risk_multiplier` is the staleness factor only: the state's `effective.riskMultiplier` (macro
conflict) belongs to the risk model, which applies each multiplier once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bias_app.engines.config import StalenessConfig
from bias_app.engines.staleness import compute_staleness

MTF_BIAS_MISSING = "mtf_bias_missing"
TRADE_SUPPRESSED_BY_BIAS = "trade_suppressed_by_bias"
BIAS_STATE_STALE = "bias_state_stale"

_SUPPRESSION_FLAG = {"long": "suppressLong", "short": "suppressShort"}
ONE = Decimal(1)


@dataclass(frozen=True)
class EntryGateConfig:
    require_bias: bool  # REQUIRE_MTF_BIAS_FOR_ENTRY
    staleness: StalenessConfig


@dataclass(frozen=True)
class GateResult:
    allowed: bool
    reason_code: str | None  # one of the constants above when not allowed
    detail: str
    risk_multiplier: Decimal = ONE


def entry_gate(state: Mapping | None, direction: str, now: datetime, config: EntryGateConfig) -> GateResult:
    if direction not in _SUPPRESSION_FLAG:
        raise ValueError(f"direction must be 'long' or 'short', not {direction!r}")
    if state is None:
        if config.require_bias:
            return GateResult(False, MTF_BIAS_MISSING, "no MTF bias state for this symbol")
        return GateResult(True, None, "no MTF bias state (not required)")
    effective = state.get("effective") or {}
    # States written before direction-aware gating only carry the combined flag.
    suppressed = effective.get(_SUPPRESSION_FLAG[direction], effective.get("tradeSuppressed", False))
    if suppressed:
        notes = "; ".join(effective.get("notes") or []) or "suppressed by bias state"
        return GateResult(False, TRADE_SUPPRESSED_BY_BIAS, f"{direction} entries suppressed: {notes}")
    staleness = compute_staleness(state["updatedAtMs"], now, config.staleness)
    if not staleness.is_stale:
        return GateResult(True, None, "bias state fresh")
    if config.staleness.behavior == "block":
        return GateResult(False, BIAS_STATE_STALE, staleness.describe())
    multiplier = config.staleness.risk_multiplier
    return GateResult(True, None, f"{staleness.describe()}; size × {multiplier}", multiplier)
