"""The orchestrator's pre-engine gates, run once per signal in SPEC §6 order (pure).

bias (missing → suppressed for this direction → stale) → portfolio guard → setup validator →
drawdown breaker → greek exposure. The first block stops the run; gates after it are not listed.
A gate that does not apply (no bias state, guard disabled) is listed as passed with the reason it
was skipped, so the stored verdict shows what was and was not checked.

The bias state is camelCase JSON written by other processes and possibly by older code: any field
may be missing. A missing field means the rule that reads it cannot fire; it never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bias_app.engines.gating import EntryGateConfig, entry_gate
from optionsengine.lib import money
from optionsengine.lib.money import CONTRACT_MULTIPLIER, MoneyParseError
from optionsengine.lib.option_contracts import days_to_expiry
from signals_app.engines import reasons
from signals_app.engines.outcome import GateCheck, GateVerdict
from signals_app.engines.paths import dig as _field
from signals_app.engines.setup_type import BREAKOUT, MEAN_REVERT, strategy_type
from signals_app.engines.snapshot import LONG, SHORT, DecisionInput, OpenPosition

# Guard rule names (reference orchestrator §4.5): blocks travel in the reason, notes in `notes`.
MAX_SAME_DIRECTION_PER_SYMBOL_CLUSTER = "MAX_SAME_DIRECTION_PER_SYMBOL_CLUSTER"
MACRO_BIAS_CLUSTER = "MACRO_BIAS_CLUSTER"
MACRO_DRIFT_GUARD = "MACRO_DRIFT_GUARD"
RANGE_REGIME_DIRECTIONAL_CAP = "RANGE_REGIME_DIRECTIONAL_CAP"
RANGE_BREAKOUT_BLOCKED = "RANGE_BREAKOUT_BLOCKED"
VOLATILITY_EXPANSION_GUARD = "VOLATILITY_EXPANSION_GUARD"
MAX_OPEN_TRADES = "MAX_OPEN_TRADES"
MAX_POSITIONS_PER_SYMBOL = "MAX_POSITIONS_PER_SYMBOL"

# Setup validator reasons (reference orchestrator §4.6), in the order they are reported.
BREAKOUT_WITHOUT_SPACE = "BREAKOUT_WITHOUT_SPACE"
NO_TRIGGER_CONFIRMATION = "NO_TRIGGER_CONFIRMATION"
LIQUIDITY_TRAP_CONTINUATION = "LIQUIDITY_TRAP_CONTINUATION"
RANGE_SUPPRESSION_NON_MEAN_REVERT = "RANGE_SUPPRESSION_NON_MEAN_REVERT"

POSITIONS_WITHOUT_GREEKS = "POSITIONS_WITHOUT_GREEKS"

# Macro classes that make one side of the book "against the macro" for the cluster rule.
_MACRO_AGAINST = {
    LONG: frozenset({"MACRO_BREAKDOWN_CONFIRMED", "MACRO_TREND_DOWN"}),
    SHORT: frozenset({"MACRO_TREND_UP"}),
}
_MACRO_UNSTABLE = frozenset({"MACRO_REVERSAL_RISK", "MACRO_RANGE"})
_GREEKS = ("delta", "gamma", "vega")


@dataclass(frozen=True)
class GateConfig:
    """Gate settings; defaults are the reference's hard-coded values (units in the comments)."""

    entry: EntryGateConfig
    portfolio_guard_enabled: bool = True
    max_open_trades: int = 8  # open positions, any symbol (guard's own cap, not MAX_OPEN_POSITIONS)
    max_positions_per_symbol: int = 2  # open positions in the signal's symbol, either direction
    max_same_direction_per_symbol: int = 2
    macro_cluster_limit: int = 3  # open positions on the side the macro class argues against
    macro_drift_threshold: Decimal = Decimal("0.15")  # acceleration.macroDriftScore, 0–1
    range_chop_threshold: Decimal = Decimal("70")  # chopScore 0–100, strictly above counts as chop
    range_directional_cap: int = 2  # open positions in the trade's direction, any symbol
    drawdown_limit_pct: Decimal = Decimal("3")  # percent of open cost basis
    breaker_freeze: timedelta = timedelta(minutes=30)
    max_abs_delta: Decimal = Decimal("500")  # share-equivalents: Σ delta × qty × 100
    max_abs_gamma: Decimal = Decimal("200")
    max_abs_vega: Decimal = Decimal("1000")  # USD per vol point
    greek_decay_exponent: Decimal = Decimal("0.3")
    expiry_day_greek_factor: Decimal = Decimal("1.5")  # under one day to expiry: gamma explodes


def run_gates(inp: DecisionInput, config: GateConfig) -> GateVerdict:
    checks: list[GateCheck] = []
    bias = entry_gate(_datable(inp.bias_state), inp.signal.direction, inp.now, config.entry)
    checks.append(GateCheck("bias", bias.allowed, bias.reason_code, _bias_detail(inp.bias_state, bias.detail)))
    if not bias.allowed:
        return GateVerdict(tuple(checks))
    for gate in (_portfolio_guard, _setup_validator, _drawdown_breaker, _greek_exposure):
        check, breaker_trip = gate(inp, config)
        checks.append(check)
        if not check.passed:
            return GateVerdict(tuple(checks), bias.risk_multiplier, breaker_trip)
    return GateVerdict(tuple(checks), bias.risk_multiplier)


def _datable(state: Mapping | None) -> Mapping | None:
    """A state without a usable `updatedAtMs` has an unknown age: treat it as infinitely old."""
    if state is None or _is_int(state.get("updatedAtMs")):
        return state
    return {**state, "updatedAtMs": 0}


def _bias_detail(state: Mapping | None, detail: str) -> str:
    if state is not None and not _is_int(state.get("updatedAtMs")):
        return f"{detail} (no updatedAtMs: age unknown)"
    return detail


Outcome = tuple[GateCheck, Mapping | None]


def _portfolio_guard(inp: DecisionInput, config: GateConfig) -> Outcome:
    name = "portfolio_guard"
    if inp.bias_state is None:
        return GateCheck(name, True, detail="skipped: no bias state"), None
    if not config.portfolio_guard_enabled:
        return GateCheck(name, True, detail="skipped: portfolio guard disabled"), None
    state, direction, symbol = inp.bias_state, inp.signal.direction, inp.signal.symbol
    positions = inp.portfolio.positions
    same_side = [p for p in positions if p.direction == direction]
    notes: list[str] = []

    def block(rule: str, detail: str) -> Outcome:
        reason = reasons.with_details(reasons.PORTFOLIO_GUARD_BLOCK, [rule])
        return GateCheck(name, False, reason, detail, tuple(notes)), None

    same_symbol_side = sum(1 for p in same_side if p.symbol == symbol)
    if same_symbol_side >= config.max_same_direction_per_symbol:
        detail = f"{same_symbol_side} open {direction} positions in {symbol}"
        return block(MAX_SAME_DIRECTION_PER_SYMBOL_CLUSTER, detail)
    macro = _text(state, "macroClass")
    # Only a trade that adds to the side the macro argues against grows the cluster.
    if macro in _MACRO_AGAINST[direction] and len(same_side) >= config.macro_cluster_limit:
        return block(MACRO_BIAS_CLUSTER, f"{len(same_side)} open {direction} positions against {macro}")
    drift = _number(_field(state, "acceleration.macroDriftScore"))
    if (drift is not None and drift > config.macro_drift_threshold) or _field(state, "transitions.macroFlip") is True:
        notes.append(MACRO_DRIFT_GUARD)
    chop = _number(_field(state, "chopScore"))
    if _field(state, "regimeType") == "RANGE" and chop is not None and chop > config.range_chop_threshold:
        if len(same_side) >= config.range_directional_cap:
            notes.append(RANGE_REGIME_DIRECTIONAL_CAP)
        if strategy_type(state) == BREAKOUT:
            return block(RANGE_BREAKOUT_BLOCKED, f"breakout entry in a choppy range (chop {chop})")
    if _field(state, "atrState15m") == "EXPANDING" and macro in _MACRO_UNSTABLE:
        notes.append(VOLATILITY_EXPANSION_GUARD)
    if len(positions) >= config.max_open_trades:
        return block(MAX_OPEN_TRADES, f"{len(positions)} open positions (cap {config.max_open_trades})")
    in_symbol = inp.portfolio.count_for(symbol)
    if in_symbol >= config.max_positions_per_symbol:
        return block(MAX_POSITIONS_PER_SYMBOL, f"{in_symbol} open positions in {symbol}")
    return GateCheck(name, True, detail="downgrade (notes only)" if notes else "allow", notes=tuple(notes)), None


def _setup_validator(inp: DecisionInput, config: GateConfig) -> Outcome:
    name = "setup_validator"
    state = inp.bias_state
    if state is None:
        return GateCheck(name, True, detail="skipped: no bias state"), None
    is_long = inp.signal.direction == LONG
    found: list[str] = []
    # A long needs room above it, a short room below (the reference read resistance for both).
    room = _field(state, "space.roomToResistance" if is_long else "space.roomToSupport")
    if _field(state, "intentType") == BREAKOUT and room == "LOW":
        found.append(BREAKOUT_WITHOUT_SPACE)
    if _field(state, "trigger.triggered") is False:
        found.append(NO_TRIGGER_CONFIRMATION)
    # Continuing into a swept level that was not reclaimed walks into the trap; mirrored for shorts.
    swept = _field(state, "liquidity.sweepHigh" if is_long else "liquidity.sweepLow")
    if swept is True and _field(state, "liquidity.reclaim") is False:
        found.append(LIQUIDITY_TRAP_CONTINUATION)
    hint_known = _field(state, "riskContext.entryModeHint") is not None
    if _field(state, "regimeType") == "RANGE" and hint_known and strategy_type(state) != MEAN_REVERT:
        found.append(RANGE_SUPPRESSION_NON_MEAN_REVERT)
    if found:
        return GateCheck(name, False, reasons.with_details(reasons.SETUP_INVALID, found), ", ".join(found)), None
    return GateCheck(name, True, detail="valid"), None


def _drawdown_breaker(inp: DecisionInput, config: GateConfig) -> Outcome:
    """Unrealized drawdown of the open book; the service persists a trip (circuit_breaker_state)."""
    name = "drawdown_breaker"
    frozen_until = inp.portfolio.breaker_frozen_until
    if frozen_until is not None and frozen_until > inp.now:
        detail = f"frozen until {frozen_until.isoformat()}"
        return GateCheck(name, False, reasons.DRAWDOWN_CIRCUIT_BREAKER, detail), None
    # Positions without a mark are left out of both sums: their cost would dilute the percentage.
    marked = [p for p in inp.portfolio.positions if p.unrealized_pnl is not None]
    loss = sum((-p.unrealized_pnl for p in marked if p.unrealized_pnl < 0), Decimal(0))
    cost = sum((p.entry_price * p.quantity * CONTRACT_MULTIPLIER for p in marked), Decimal(0))
    pct = loss / cost * 100 if cost > 0 else Decimal(0)
    detail = f"drawdown {money.quantize(pct, 2)} % of open cost (limit {config.drawdown_limit_pct} %)"
    if pct >= config.drawdown_limit_pct:
        trip = {"freeze_until": inp.now + config.breaker_freeze, "drawdown_pct": pct}
        return GateCheck(name, False, reasons.DRAWDOWN_CIRCUIT_BREAKER, detail), trip
    return GateCheck(name, True, detail=detail), None


def _greek_exposure(inp: DecisionInput, config: GateConfig) -> Outcome:
    """Net entry greeks of the open book, decayed by time to expiry (reference orchestrator §4.7).

    Every position is a bought option, so there is no side sign: the greeks carry their own
    (a put's delta is negative), and calls and puts offset each other.
    """
    name = "greek_exposure"
    totals = dict.fromkeys(_GREEKS, Decimal(0))
    skipped = 0
    for position in inp.portfolio.positions:
        greeks = _entry_greeks(position)
        if greeks is None:
            skipped += 1
            continue
        weight = position.quantity * CONTRACT_MULTIPLIER * _decay_factor(position, inp.now, config)
        for greek in _GREEKS:
            totals[greek] += greeks[greek] * weight
    limits = {"delta": config.max_abs_delta, "gamma": config.max_abs_gamma, "vega": config.max_abs_vega}
    over = [greek for greek in _GREEKS if abs(totals[greek]) > limits[greek]]
    notes = (POSITIONS_WITHOUT_GREEKS,) if skipped else ()
    detail = ", ".join(f"net {greek} {money.quantize(totals[greek], 2)} (limit ±{limits[greek]})" for greek in _GREEKS)
    if skipped:
        detail += f"; {skipped} position(s) without entry greeks skipped"
    if over:
        return GateCheck(name, False, reasons.GAMMA_EXPOSURE_LIMIT, detail, notes), None
    return GateCheck(name, True, detail=detail, notes=notes), None


def _entry_greeks(position: OpenPosition) -> dict[str, Decimal] | None:
    """Delta, gamma and vega per contract-share, or None when any of them is missing or not a number."""
    if not isinstance(position.greeks_at_entry, Mapping):
        return None
    try:
        return {greek: money.to_decimal(position.greeks_at_entry.get(greek)) for greek in _GREEKS}
    except MoneyParseError:
        return None


def _decay_factor(position: OpenPosition, now: datetime, config: GateConfig) -> Decimal:
    """(DTE now / DTE at entry) ^ 0.3, or 1.5 inside the last day.

    DTE at entry is not stored; it is recomputed from the entry time, in fractional calendar days
    to 16:00 New York on the expiry. The ratio is capped at 1 so an entry stamped after `now`
    (clock skew) cannot inflate the exposure.
    """
    dte_now = days_to_expiry(now, position.expiration)
    if dte_now < 1:
        return config.expiry_day_greek_factor
    dte_entry = max(days_to_expiry(position.entry_timestamp, position.expiration), dte_now)
    return (Decimal(repr(dte_now)) / Decimal(repr(dte_entry))) ** config.greek_decay_exponent



def _text(state: Mapping, dotted: str) -> str | None:
    """A string field, or None (a list or number where a class name belongs cannot match a rule)."""
    value = _field(state, dotted)
    return value if isinstance(value, str) else None


def _number(value: object) -> Decimal | None:
    """A JSON number as Decimal; None for a missing, boolean, string or non-numeric value."""
    return None if isinstance(value, str) else money.to_decimal_or_none(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
