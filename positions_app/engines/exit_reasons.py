"""Exit reason codes (SPEC §10): defined once, imported everywhere. Pure: no Django.

Operators filter `orders.exit_reason`, `refactored_positions.exit_reason` and
`bias_trade_performance.exit_reason_codes` by these strings, and the adaptive tuner recognises
macro-drift exits by them, so they never change. All are lower snake case (the original stored
some with spaces, which is why its tuner never saw a macro-drift exit).

Partial exits fire once per position: the id of the rung or check that fired is appended to
`refactored_positions.partials_taken` (see `partial_key`).
"""

from __future__ import annotations

# --- forced closes (evaluated even while the option market is closed) ---------------------------
EMERGENCY_RISK_OFF = "emergency_risk_off"
EXPIRATION_DAY_CLOSE = "expiration_day_close"
STALE_DATA_FORCE_CLOSE = "stale_data_force_close"
MANUAL_CLOSE = "manual_close"  # an operator's "close position" admin action
# A `closing` position whose exit order failed or was cancelled gets a new one with its original
# reason; this code is used only when that reason is missing (a row closed by hand in SQL).
STUCK_CLOSING_REISSUE = "stuck_closing_reissue"

# --- exit intelligence (bias-state driven) --------------------------------------------------------
MACRO_DRIFT_EXIT_PRESSURE = "macro_drift_exit_pressure"
ACCELERATION_DECAY = "acceleration_decay"
REGIME_FLIP_INVALIDATION = "regime_flip_invalidation"
VOLATILITY_EXPANSION_PROTECT_RUN = "volatility_expansion_protect_run"
LIQUIDITY_TRAP_EXIT = "liquidity_trap_exit"

# --- exit decision engine, tiers 1–4 --------------------------------------------------------------
THESIS_INVALIDATION = "thesis_invalidation"
SCALP_MAX_HOLD_EXCEEDED = "scalp_max_hold_exceeded"
THETA_BURN_LIMIT = "theta_burn_limit"
PROGRESS_CHECK_FAILED = "progress_check_failed"
LIQUIDITY_DETERIORATION = "liquidity_deterioration"
REGIME_FLIP = "regime_flip"
PROFIT_TARGET_REACHED = "profit_target_reached"  # a tier-3 ladder rung (partial)
TIME_STOP = "time_stop"
DELTA_DECAY = "delta_decay"
GAMMA_STALL = "gamma_stall"
THETA_ACCELERATION = "theta_acceleration"
VEGA_IV_SHOCK = "vega_iv_shock"
VEGA_IV_SPIKE = "vega_iv_spike"

# --- exit_rules limits (always enforced) ----------------------------------------------------------
PROFIT_TARGET = "profit_target"
STOP_LOSS = "stop_loss"
MAX_HOLD_TIME = "max_hold_time"
MIN_DTE_EXIT = "min_dte_exit"
TRAILING_STOP = "trailing_stop"
TRAILING_STOP_STALE = "trailing_stop_stale"  # breached the stale-price (tightened) stop

FORCED = frozenset({EMERGENCY_RISK_OFF, EXPIRATION_DAY_CLOSE, STALE_DATA_FORCE_CLOSE, MANUAL_CLOSE, STUCK_CLOSING_REISSUE})
INTELLIGENCE = frozenset({
    MACRO_DRIFT_EXIT_PRESSURE, ACCELERATION_DECAY, REGIME_FLIP_INVALIDATION,
    VOLATILITY_EXPANSION_PROTECT_RUN, LIQUIDITY_TRAP_EXIT,
})
TIERS = frozenset({
    THESIS_INVALIDATION, SCALP_MAX_HOLD_EXCEEDED, THETA_BURN_LIMIT, PROGRESS_CHECK_FAILED,
    LIQUIDITY_DETERIORATION, REGIME_FLIP, PROFIT_TARGET_REACHED, TIME_STOP, DELTA_DECAY, GAMMA_STALL,
    THETA_ACCELERATION, VEGA_IV_SHOCK, VEGA_IV_SPIKE,
})
RULES = frozenset({PROFIT_TARGET, STOP_LOSS, MAX_HOLD_TIME, MIN_DTE_EXIT, TRAILING_STOP, TRAILING_STOP_STALE})
ALL = FORCED | INTELLIGENCE | TIERS | RULES


def partial_key(code: str, rung: str | None = None) -> str:
    """The id stored in `partials_taken` for one partial rung or check: `profit_target_reached:15`,
    `progress_check_failed:30m`, `time_stop:7d`, `macro_drift_exit_pressure`."""
    return f"{code}:{rung}" if rung else code
