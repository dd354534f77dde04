"""The orchestrator's reason codes (SPEC §6): defined once, imported everywhere.

Operators filter `signals.rejection_reason` by these strings and other tools test them, so they
never change. Codes with a suffix (`portfolio_guard_block:<RULE>`) are built by the helpers below.
Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Iterable

# --- lifecycle (claim, queue, retries) ---------------------------------------------------------
SIGNAL_STALE = "signal_stale"
MARKET_CLOSED = "market_closed"
MAX_OPEN_POSITIONS_EXCEEDED = "max_open_positions_exceeded"
MAX_POSITIONS_PER_SYMBOL_EXCEEDED = "max_positions_per_symbol_exceeded"
DAILY_LOSS_CAP_EXCEEDED = "daily_loss_cap_exceeded"
MARKET_DATA_UNAVAILABLE = "market_data_unavailable"
PROCESSING_TIMEOUT = "processing_timeout"
PROCESSING_FAILED = "processing_failed"
ENTRY_WAIT = "entry_wait"  # interim reason while a tier-2 WAIT is re-checked (status stays pending)
ENTRY_WAIT_EXHAUSTED = "entry_wait_exhausted"
SHADOW_MODE = "shadow_mode"
NO_RECOMMENDATION = "no_recommendation"

# Faults worth another attempt; everything else is final.
TRANSIENT = frozenset({MARKET_DATA_UNAVAILABLE, PROCESSING_TIMEOUT, PROCESSING_FAILED})
# Position-count limits defer the signal (a slot may free up) instead of rejecting it at once.
DEFERRABLE = frozenset({MAX_OPEN_POSITIONS_EXCEEDED, MAX_POSITIONS_PER_SYMBOL_EXCEEDED})

# --- enrichment --------------------------------------------------------------------------------
CONFLUENCE_BELOW_THRESHOLD = "confluence_below_threshold"

# --- gates, in SPEC order ----------------------------------------------------------------------
MTF_BIAS_MISSING = "mtf_bias_missing"
TRADE_SUPPRESSED_BY_BIAS = "trade_suppressed_by_bias"
BIAS_STATE_STALE = "bias_state_stale"
PORTFOLIO_GUARD_BLOCK = "portfolio_guard_block"  # + ":<RULE>"
SETUP_INVALID = "setup_invalid"  # + ":<REASON>,<REASON>"
DRAWDOWN_CIRCUIT_BREAKER = "drawdown_circuit_breaker"
GAMMA_EXPOSURE_LIMIT = "gamma_exposure_limit"

# --- engines -----------------------------------------------------------------------------------
ENTRY_TIER_BLOCK = "entry_tier_block"  # + ":<RULE>,<RULE>"
META_DECISION_REJECTED = "meta_decision_rejected"  # + ":<reason>,<reason>"
META_BIAS_OPPOSES_SIGNAL = "meta_bias_opposes_signal"
NO_STRIKE_NEAR_MONEY = "no_strike_near_money"
OPTION_QUOTE_UNAVAILABLE = "option_quote_unavailable"


def with_details(code: str, details: Iterable[str]) -> str:
    """`entry_tier_block` + [LOW_SIGNAL_CONFIDENCE, REGIME_CONFLICT] → `entry_tier_block:LOW_…,REGIME_…`."""
    names = [str(d) for d in details if d]
    return f"{code}:{','.join(names)}" if names else code


def base_code(reason: str | None) -> str | None:
    """The stable prefix of a reason (`portfolio_guard_block:MAX_OPEN_TRADES` → `portfolio_guard_block`)."""
    return reason.split(":", 1)[0] if reason else reason
