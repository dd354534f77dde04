"""Trailing stops (pure): the refresher's ratchet, the exit layers' adjustments, the breach check.

Every position is a long option, so the stop sits below the mark and is breached when the mark
falls to it. The refresher arms the stop once P&L % reaches the activation threshold and then
moves it only upward, and only when a new high-water mark is made: a stop widened by exit
intelligence therefore stays widened until the option makes a new high, instead of being pulled
back up by the next refresh a minute later.
"""

from __future__ import annotations

from decimal import Decimal

from optionsengine.lib import money
from positions_app.engines.exit_inputs import ExitRulesConfig, StopChange

_HUNDRED = Decimal(100)
STALE_TIGHTEN_FRACTION = Decimal("0.5")  # a stale mark moves a losing-side stop halfway to entry


def trail_price(high_water_mark: Decimal, trailing_stop_percent: Decimal) -> Decimal:
    return money.price(high_water_mark * (1 - trailing_stop_percent / _HUNDRED))


def refresh_trailing(
    *,
    entry_price: Decimal,
    mark: Decimal,
    pnl_percent: Decimal,
    high_water_mark: Decimal | None,
    stop: Decimal | None,
    rules: ExitRulesConfig,
) -> tuple[Decimal, Decimal | None]:
    """(new high-water mark, new trailing stop) after one mark."""
    previous_high = high_water_mark if high_water_mark is not None else entry_price
    new_high = max(previous_high, mark)
    if rules.trailing_stop_percent <= 0:
        return new_high, stop
    candidate = trail_price(new_high, rules.trailing_stop_percent)
    if stop is None:
        armed = pnl_percent >= rules.trailing_stop_activation_percent
        return new_high, (candidate if armed and candidate > 0 else None)
    if new_high > previous_high and candidate > stop:
        return new_high, candidate
    return new_high, stop


def adjust_stop(*, mark: Decimal, stop: Decimal | None, change: StopChange, rules: ExitRulesConfig) -> Decimal | None:
    """Apply one cycle's stop adjustments; the result is rounded to 4 dp and never above the mark.

    Distance = mark − stop (or the configured trail of the mark when no stop is set yet).
    Tighten multiplies that distance by a factor < 1 and can only raise the stop; widen multiplies
    it by a factor > 1 and can only lower an existing stop; convert starts trailing now at the
    configured trail; `absolute` raises the stop to at least that price.
    """
    if change.empty or mark <= 0:
        return stop
    trail = rules.trailing_stop_percent if rules.trailing_stop_percent > 0 else ExitRulesConfig.trailing_stop_percent
    distance = mark - stop if stop is not None and stop < mark else mark * trail / _HUNDRED
    result = stop
    if change.tighten is not None:
        candidate = money.price(mark - distance * change.tighten)
        result = candidate if result is None else max(result, candidate)
    elif change.widen is not None and result is not None:
        result = min(result, money.price(mark - distance * change.widen))
    if change.convert and result is None:
        result = money.price(mark - distance)
    if change.absolute is not None:
        candidate = money.price(min(change.absolute, mark))
        result = candidate if result is None else max(result, candidate)
    if result is not None and result <= 0:
        return stop
    return result


def effective_stop(*, stop: Decimal, entry_price: Decimal, stale: bool) -> Decimal:
    """The stop compared with the mark: on a stale mark, a stop below entry moves halfway to entry
    (the last known price may already be worse than it looks)."""
    if stale and stop < entry_price:
        return money.price(stop + (entry_price - stop) * STALE_TIGHTEN_FRACTION)
    return stop


def breached(*, mark: Decimal, stop: Decimal | None, entry_price: Decimal, stale: bool) -> bool:
    if stop is None:
        return False
    return mark <= effective_stop(stop=stop, entry_price=entry_price, stale=stale)
