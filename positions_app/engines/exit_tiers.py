"""The tiered exit decision engine (layer 3; reference §5.4, fixed per §10 items 27–30). Pure.

Evaluation stops at the first tier that asks for anything (a rung or check already taken does not
count):
1. hard fail → full exit: thesis invalidation (underlying moved against the position by the
   policy's percentage from the stored `underlying_entry_price`), SCALP max hold, theta burn;
2. protection: liquidity deterioration (real spread ≥ 20 %) or a bias regime against the option
   → full exit; a failed progress check → 50 % partial, once per check;
3. profit ladder → the highest rung reached that has not fired yet (lower untaken rungs are marked
   taken with it), once per rung;
4. degradation: delta decay or theta acceleration → stop raised to 90 % of the mark; a time stop,
   gamma stall or IV shock/spike → 25 % partial, once each.
The `exit_rules` limits (stop loss, min DTE, profit target, max hold) are not repeated here: the
rules layer enforces them with their contract codes, which also fixes the original's unreachable
"full target" (its ladder always pre-empted the rule's profit target).
Theta acceleration compares |θ now| with the entry theta scaled by √(DTE at entry ÷ DTE now) —
theta grows as expiry nears — and is skipped without entry greeks (the original divided the
wrong way and fired on zero entry greeks, a de facto 10 % trailing stop from the first minute).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from positions_app.engines import exit_reasons as R
from positions_app.engines.exit_inputs import (
    LayerResult,
    PartialRequest,
    PositionView,
    QuoteView,
    StopChange,
    days_to_expiry,
    minutes_between,
)
from positions_app.engines.exit_policies import SetupPolicy, policy_for, time_stop_label

LIQUIDITY_SPREAD_PERCENT = Decimal("20")
PROGRESS_PARTIAL = Decimal("0.50")
DEGRADATION_PARTIAL = Decimal("0.25")
DEGRADATION_STOP_FRACTION = Decimal("0.90")
GAMMA_STALL_DROP = Decimal("0.50")
THETA_ACCELERATION_FACTOR = Decimal("1.5")
IV_SHOCK_DROP = Decimal("0.30")
IV_SHOCK_MIN_VEGA = Decimal("0.15")
IV_SPIKE_RISE = Decimal("0.50")
_HUNDRED = Decimal(100)


def _tier1(position: PositionView, quote: QuoteView, policy: SetupPolicy, minutes: Decimal) -> LayerResult:
    codes: list[str] = []
    details: list[str] = []
    start, now_price = position.underlying_entry_price, quote.underlying_price
    if start and now_price:
        move = (now_price - start) / start * _HUNDRED
        adverse = -move if position.direction == "long" else move
        if adverse >= policy.thesis_adverse_move_percent:
            codes.append(R.THESIS_INVALIDATION)
            details.append(f"underlying moved {move:.2f}% against the position")
    if policy.name == "SCALP" and minutes > policy.max_hold_minutes:
        codes.append(R.SCALP_MAX_HOLD_EXCEEDED)
        details.append(f"scalp held {minutes:.0f} min > {policy.max_hold_minutes}")
    if quote.greeks is not None and position.entry_price > 0:
        burn = abs(quote.greeks.theta) * (minutes / 1440) / position.entry_price * _HUNDRED
        if burn >= policy.theta_burn_limit_percent:
            codes.append(R.THETA_BURN_LIMIT)
            details.append(f"theta burn {burn:.2f}% ≥ {policy.theta_burn_limit_percent}%")
    return LayerResult(full=tuple(codes), details=tuple(details))


def _tier2(
    position: PositionView, quote: QuoteView, bias: Mapping | None, policy: SetupPolicy,
    minutes: Decimal, pnl: Decimal,
) -> LayerResult:
    full: list[str] = []
    details: list[str] = []
    spread = quote.spread_percent
    if spread is not None and spread >= LIQUIDITY_SPREAD_PERCENT:
        full.append(R.LIQUIDITY_DETERIORATION)
        details.append(f"spread {spread:.1f}% ≥ {LIQUIDITY_SPREAD_PERCENT}%")
    against = "BEARISH" if position.option_type == "call" else "BULLISH"
    if bias and bias.get("bias") == against:
        full.append(R.REGIME_FLIP)
        details.append(f"bias is {against} against a {position.option_type}")
    if full:
        return LayerResult(full=tuple(full), details=tuple(details))
    for check in policy.progress_checks:
        key = R.partial_key(R.PROGRESS_CHECK_FAILED, check.label)
        if minutes >= check.after_minutes and pnl < check.min_pnl_percent and key not in position.partials_taken:
            return LayerResult(
                partial=PartialRequest(R.PROGRESS_CHECK_FAILED, PROGRESS_PARTIAL, (key,)),
                details=(f"progress check {check.label}: P&L {pnl}% < {check.min_pnl_percent}%",),
            )
    return LayerResult()


def _tier3(position: PositionView, policy: SetupPolicy, pnl: Decimal) -> LayerResult:
    reached = [rung for rung in policy.profit_rungs if pnl >= rung.at_pnl_percent]
    if not reached:
        return LayerResult()
    top = reached[-1]
    keys = [R.partial_key(R.PROFIT_TARGET_REACHED, rung.label) for rung in reached]
    if keys[-1] in position.partials_taken:
        return LayerResult()
    untaken = tuple(key for key in keys if key not in position.partials_taken)
    return LayerResult(
        partial=PartialRequest(R.PROFIT_TARGET_REACHED, top.exit_fraction, untaken),
        details=(f"profit rung +{top.label}% reached (P&L {pnl}%): exit {top.exit_fraction * 100:.0f}%",),
    )


def _ratio_drop(before: Decimal, after: Decimal) -> Decimal | None:
    return None if before == 0 else (abs(before) - abs(after)) / abs(before)


def _tier4(position: PositionView, quote: QuoteView, policy: SetupPolicy, minutes: Decimal, now: datetime) -> LayerResult:
    one_shot: list[tuple[str, str]] = []  # (code, key)
    tighten: list[str] = []
    details: list[str] = []
    elapsed = [m for m in policy.time_stops_minutes if minutes >= m]
    if elapsed:
        one_shot.append((R.TIME_STOP, R.partial_key(R.TIME_STOP, time_stop_label(elapsed[-1]))))
    before, after = position.greeks_at_entry, quote.greeks
    if before is not None and after is not None:
        delta_drop = _ratio_drop(before.delta, after.delta)
        if delta_drop is not None and delta_drop * _HUNDRED >= policy.delta_decay_percent:
            tighten.append(R.DELTA_DECAY)
            details.append(f"delta {before.delta} → {after.delta}")
        gamma_drop = _ratio_drop(before.gamma, after.gamma)
        if policy.gamma_stall_applies and gamma_drop is not None and gamma_drop >= GAMMA_STALL_DROP:
            one_shot.append((R.GAMMA_STALL, R.GAMMA_STALL))
        dte_entry = days_to_expiry(position.entry_timestamp, position.expiration)
        dte_now = days_to_expiry(now, position.expiration)
        if before.theta != 0 and dte_entry > 0 and dte_now > 0:
            expected = abs(before.theta) * (dte_entry / dte_now).sqrt()
            if abs(after.theta) > THETA_ACCELERATION_FACTOR * expected:
                tighten.append(R.THETA_ACCELERATION)
                details.append(f"|theta| {abs(after.theta)} > {THETA_ACCELERATION_FACTOR} × expected {expected:.4f}")
    iv_before, iv_after = position.iv_at_entry, quote.iv
    if iv_before and iv_after is not None and iv_before > 0:
        change = (iv_after - iv_before) / iv_before
        if -change >= IV_SHOCK_DROP and after is not None and after.vega >= IV_SHOCK_MIN_VEGA:
            one_shot.append((R.VEGA_IV_SHOCK, R.VEGA_IV_SHOCK))
        if change >= IV_SPIKE_RISE:
            one_shot.append((R.VEGA_IV_SPIKE, R.VEGA_IV_SPIKE))
    fresh = [(code, key) for code, key in one_shot if key not in position.partials_taken]
    partial = None
    if fresh:
        partial = PartialRequest(fresh[0][0], DEGRADATION_PARTIAL, tuple(key for _, key in fresh))
        details.append("degradation: " + ", ".join(code for code, _ in fresh))
    stop = StopChange(absolute=quote.mark * DEGRADATION_STOP_FRACTION) if tighten else StopChange()
    noted = tuple(tighten) + tuple(code for code, _ in fresh[1:])
    return LayerResult(partial=partial, noted=noted, stop=stop, details=tuple(details))


def evaluate_tiers(
    position: PositionView, quote: QuoteView, bias: Mapping | None, *, pnl_pct: Decimal, now: datetime
) -> LayerResult:
    """The first tier that asks for anything; `bias` is None when missing or stale."""
    policy = policy_for(position.setup_type)
    minutes = minutes_between(position.entry_timestamp, now)
    for result in (
        _tier1(position, quote, policy, minutes),
        _tier2(position, quote, bias, policy, minutes, pnl_pct),
        _tier3(position, policy, pnl_pct),
        _tier4(position, quote, policy, minutes, now),
    ):
        if result.full or result.partial is not None or not result.stop.empty:
            return result
    return LayerResult()
