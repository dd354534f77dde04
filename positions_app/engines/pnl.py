"""P&L of long option positions: the one module every stage computes money with (SPEC §8, §9, §11).

We only ever buy options (calls for long signals, puts for short signals), so a position gains
when its option price rises, whatever the option's right. Units: prices are USD per share of the
option (4 dp); one contract is `CONTRACT_MULTIPLIER` (100) shares; P&L is USD rounded to the
cent; percentages are 0–100 (4 dp); R is realized P&L ÷ initial risk (4 dp).

The reconciliation invariant the stages keep: Σ `realized_pnl(fill)` over a position's exit
fills = position.realized_pnl = trade performance realized_pnl at close. It holds because every
exit fill is rounded to the cent here, once, and the stages only ever add those rounded figures.
"""

from __future__ import annotations

from decimal import Decimal

from optionsengine.lib import money
from optionsengine.lib.money import CONTRACT_MULTIPLIER

_HUNDRED = Decimal(100)


def cost_basis(entry_price: Decimal, quantity: int) -> Decimal:
    """USD paid for `quantity` contracts at `entry_price` per share."""
    return money.cash(entry_price * quantity * CONTRACT_MULTIPLIER)


def realized_pnl(entry_price: Decimal, exit_fill_price: Decimal, quantity: int) -> Decimal:
    """USD realized by selling `quantity` contracts bought at `entry_price` for `exit_fill_price`."""
    return money.cash((exit_fill_price - entry_price) * quantity * CONTRACT_MULTIPLIER)


def unrealized_pnl(entry_price: Decimal, mark: Decimal, quantity: int) -> Decimal:
    """USD the open contracts would realize at `mark` (the option mid)."""
    return realized_pnl(entry_price, mark, quantity)


def pnl_percent(entry_price: Decimal, mark: Decimal) -> Decimal:
    """Change of the option price since entry, in percent of the entry price (0 when entry is 0)."""
    if entry_price <= 0:
        return Decimal("0.0000")
    return money.quantize((mark - entry_price) / entry_price * _HUNDRED, 4)


def total_pnl_percent(realized_total: Decimal, entry_price: Decimal, initial_quantity: int) -> Decimal:
    """Realized P&L of a closed position as a percent of its total cost basis."""
    basis = cost_basis(entry_price, initial_quantity)
    if basis <= 0:
        return Decimal("0.0000")
    return money.quantize(realized_total / basis * _HUNDRED, 4)


def initial_risk(entry_price: Decimal, initial_quantity: int, stop_loss_percent: Decimal) -> Decimal:
    """USD at risk when the position opened: cost basis × stop-loss %."""
    return money.cash(cost_basis(entry_price, initial_quantity) * stop_loss_percent / _HUNDRED)


def r_multiple(realized_total: Decimal, risk: Decimal) -> Decimal | None:
    """Realized P&L in units of initial risk; None when the risk is zero (no stop configured)."""
    if risk <= 0:
        return None
    return money.quantize(realized_total / risk, 4)
