"""Exit intelligence (layer 2): exits and stop adjustments from the symbol's bias state. Pure.

Rules, in order (reference execution-exits-pnl §5.3, with its bugs fixed):
1. macro drift — `acceleration.macroDriftScore` above the tuned `macroDriftThreshold` (bias_config
   adaptive), or a macro-class flip, unless the macro class now argues *for* the position:
   above threshold + `MACRO_DRIFT_FULL_MARGIN` → full exit; otherwise a 30 % partial (once per
   position) and the stop tightened to 0.75 of its distance;
2. acceleration decay — momentum that favoured the position at entry
   (`entry_acceleration_state_strength_delta`, signed by direction) now works against it in a LATE
   trend phase → tighten to 0.8 and start trailing now. Unknown entry momentum → no decay verdict
   (the original assumed +10, so the check always passed);
3. regime flip — a regime change invalidates a position entered as a BREAKOUT → full exit (the
   original compared a strategy type that was always SWING, so it never fired);
4. volatility expansion — expanding ATR with the macro trend behind a winning position → widen the
   stop to 1.15 of its distance (let it run);
5. liquidity trap — a sweep of the highs (calls) or lows (puts) without reclaim → full exit (the
   original only checked calls).
Safety: a partial needs P&L ≥ `MIN_PROFIT_PERCENT_FOR_PARTIAL` (the original's "1 R" was 1 % of
premium; it is named for what it is); a dropped macro-drift partial becomes a 0.75 tighten; a
losing position is never tightened or widened (trailing conversion stays); a full exit clears
every other output; a partial clears widen; tighten beats widen.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from optionsengine.lib.money import to_decimal_or_none as _number
from positions_app.engines import exit_reasons as R
from positions_app.engines.exit_inputs import ExitSettings, LayerResult, PartialRequest, PositionView, StopChange

MACRO_DRIFT_FULL_MARGIN = Decimal("0.07")  # the original: 0.18 → partial, 0.25 → full
MACRO_DRIFT_PARTIAL = Decimal("0.30")
MACRO_DRIFT_TIGHTEN = Decimal("0.75")
DECAY_TIGHTEN = Decimal("0.8")
EXPANSION_WIDEN = Decimal("1.15")
MIN_PROFIT_PERCENT_FOR_PARTIAL = Decimal("1")

_ALIGNED_MACRO = {"long": {"MACRO_TREND_UP"}, "short": {"MACRO_TREND_DOWN", "MACRO_BREAKDOWN_CONFIRMED"}}


def evaluate_intelligence(
    position: PositionView, state: Mapping | None, *, pnl_pct: Decimal, settings: ExitSettings
) -> LayerResult:
    """What the bias state says about one position. `state` is None when missing or stale."""
    if not state:
        return LayerResult(details=("exit intelligence: no fresh bias state",))
    direction = position.direction
    sign = 1 if direction == "long" else -1
    acceleration = state.get("acceleration") or {}
    transitions = state.get("transitions") or {}
    liquidity = state.get("liquidity") or {}
    aligned = state.get("macroClass") in _ALIGNED_MACRO[direction]

    full: list[str] = []
    codes: list[str] = []
    details: list[str] = []
    partial: PartialRequest | None = None
    tighten: Decimal | None = None
    widen: Decimal | None = None
    convert = False

    drift = _number(acceleration.get("macroDriftScore")) or Decimal(0)
    threshold = settings.macro_drift_threshold
    if (drift > threshold or transitions.get("macroFlip")) and not aligned:
        codes.append(R.MACRO_DRIFT_EXIT_PRESSURE)
        if drift > threshold + MACRO_DRIFT_FULL_MARGIN:
            full.append(R.MACRO_DRIFT_EXIT_PRESSURE)
            details.append(f"macro drift {drift} > {threshold + MACRO_DRIFT_FULL_MARGIN}: full exit")
        else:
            tighten = MACRO_DRIFT_TIGHTEN
            key = R.partial_key(R.MACRO_DRIFT_EXIT_PRESSURE)
            partial = PartialRequest(R.MACRO_DRIFT_EXIT_PRESSURE, MACRO_DRIFT_PARTIAL, (key,))
            details.append(f"macro drift {drift} (threshold {threshold}, flip {bool(transitions.get('macroFlip'))})")

    entry_delta = position.entry_strength_delta
    now_delta = _number(acceleration.get("stateStrengthDelta"))
    decaying = (
        entry_delta is not None and now_delta is not None
        and entry_delta * sign > 0 and now_delta * sign < 0 and state.get("trendPhase") == "LATE"
    )
    if decaying and not full:
        codes.append(R.ACCELERATION_DECAY)
        tighten = DECAY_TIGHTEN if tighten is None else min(tighten, DECAY_TIGHTEN)
        convert = True
        details.append(f"acceleration decay: strength delta {entry_delta} at entry, {now_delta} now, LATE phase")

    if transitions.get("regimeFlip") and position.entry_mode_hint == "BREAKOUT":
        codes.append(R.REGIME_FLIP_INVALIDATION)
        full.append(R.REGIME_FLIP_INVALIDATION)
        details.append("regime flip invalidates a breakout entry")

    if state.get("atrState15m") == "EXPANDING" and aligned and not full and pnl_pct > 0:
        codes.append(R.VOLATILITY_EXPANSION_PROTECT_RUN)
        widen = EXPANSION_WIDEN
        details.append("volatility expanding with the macro trend: stop widened")

    swept = liquidity.get("sweepHigh") if direction == "long" else liquidity.get("sweepLow")
    if swept and not liquidity.get("reclaim"):
        codes.append(R.LIQUIDITY_TRAP_EXIT)
        full.append(R.LIQUIDITY_TRAP_EXIT)
        details.append(f"liquidity sweep of the {'highs' if direction == 'long' else 'lows'} without reclaim")

    # --- safety constraints -------------------------------------------------------------------
    if partial is not None and (pnl_pct < MIN_PROFIT_PERCENT_FOR_PARTIAL or set(partial.keys) & set(position.partials_taken)):
        partial = None
        if R.MACRO_DRIFT_EXIT_PRESSURE in codes:
            tighten = MACRO_DRIFT_TIGHTEN if tighten is None else min(tighten, MACRO_DRIFT_TIGHTEN)
    if pnl_pct < 0:
        tighten = widen = None
        if R.ACCELERATION_DECAY in codes:
            codes.remove(R.ACCELERATION_DECAY)
    if full:
        return LayerResult(full=tuple(full), noted=tuple(c for c in codes if c not in full), details=tuple(details))
    if partial is not None or tighten is not None:
        widen = None
    if widen is None and R.VOLATILITY_EXPANSION_PROTECT_RUN in codes:
        codes.remove(R.VOLATILITY_EXPANSION_PROTECT_RUN)
    noted = tuple(c for c in codes if partial is None or c != partial.code)
    return LayerResult(
        partial=partial,
        noted=noted,
        stop=StopChange(tighten=tighten, widen=widen, convert=convert),
        details=tuple(details),
    )
