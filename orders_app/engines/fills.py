"""Paper fill prices (SPEC §8): where a simulated order trades inside the quoted market.

Pure: no Django, no clock. Inputs are the option quote's mid/bid/ask (Decimal, USD per share)
and the slippage fraction f (0 = trade at mid, 1 = cross the whole half-spread):

    entry (buy)  pays     mid + f × (ask − mid)
    exit  (sell) receives mid − f × (mid − bid)

When the quote has no usable side (missing, or on the wrong side of mid), that side is synthesised
from a spread of 2 % of mid (so the half-spread is 1 % of mid). The result is rounded to the
option's tick against the trader — buys up, sells down — because a paper fill must never be
better than a real one could have been; it is never below one tick (0.01).

Tick: 0.01 below 3.00 and 0.05 at or above 3.00 (the tick is chosen from the unrounded price),
except for penny-pilot underlyings, which quote in 0.01 at every price. `PENNY_PILOT` is a short,
deliberately conservative list of the most liquid optionable names (index ETFs and mega caps that
are in the Penny Interval Program); every other symbol is treated as nickel-quoted above 3.00.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from optionsengine.lib import money

ENTRY = "entry"
EXIT = "exit"

PENNY = Decimal("0.01")
NICKEL = Decimal("0.05")
NICKEL_FROM = Decimal("3.00")  # at or above this price, non-penny-pilot options tick in 0.05
DEFAULT_SPREAD_OF_MID = Decimal("0.02")  # assumed full spread when the quote has no bid/ask
MIN_FILL = PENNY

PENNY_PILOT = frozenset({
    "SPY", "QQQ", "IWM", "DIA", "XLK", "XLF", "GLD", "TLT", "EEM", "EFA", "HYG", "SLV", "USO",
    "AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META", "GOOGL", "GOOG", "AMD", "NFLX", "PLTR",
    "INTC", "BAC", "F", "C", "MU", "BABA",
})

_TWO = Decimal(2)


@dataclass(frozen=True)
class PaperFill:
    """The price an order fills at and the market it was priced against."""

    price: Decimal  # on the option tick, 4 dp
    mid: Decimal
    bid: Decimal  # the bid used (synthetic when `synthetic_spread`)
    ask: Decimal
    synthetic_spread: bool


def is_penny_pilot(symbol: str) -> bool:
    return symbol.upper() in PENNY_PILOT


def tick_size(symbol: str, price: Decimal) -> Decimal:
    """0.01 for penny-pilot symbols and below 3.00; 0.05 at or above 3.00 otherwise."""
    if is_penny_pilot(symbol) or price < NICKEL_FROM:
        return PENNY
    return NICKEL


def round_to_option_tick(price: Decimal, symbol: str, *, side: str) -> Decimal:
    """Round a raw fill to the tick against the trader: entries up, exits down; at least 0.01."""
    _check_side(side)
    tick = tick_size(symbol, price)
    rounded = money.round_to_tick(price, tick, ROUND_CEILING if side == ENTRY else ROUND_FLOOR)
    return money.price(max(rounded, MIN_FILL))


def price_fill(
    *, side: str, symbol: str, mid: Decimal, bid: Decimal | None, ask: Decimal | None, slippage_fraction: Decimal
) -> PaperFill:
    """The paper fill for one order. Raises ValueError on a non-positive mid or f outside [0, 1]."""
    _check_side(side)
    if not mid.is_finite() or mid <= 0:
        raise ValueError(f"cannot fill against a non-positive mid {mid}")
    if not Decimal(0) <= slippage_fraction <= Decimal(1):
        raise ValueError(f"slippage fraction must be within [0, 1], not {slippage_fraction}")
    half_spread = mid * DEFAULT_SPREAD_OF_MID / _TWO
    usable_ask = ask if ask is not None and ask >= mid else None
    usable_bid = bid if bid is not None and 0 <= bid <= mid else None
    synthetic = (usable_ask if side == ENTRY else usable_bid) is None
    ask_used = usable_ask if usable_ask is not None else mid + half_spread
    bid_used = usable_bid if usable_bid is not None else mid - half_spread
    raw = mid + slippage_fraction * (ask_used - mid) if side == ENTRY else mid - slippage_fraction * (mid - bid_used)
    return PaperFill(
        price=round_to_option_tick(raw, symbol, side=side),
        mid=money.price(mid),
        bid=money.price(bid_used),
        ask=money.price(ask_used),
        synthetic_spread=synthetic,
    )


def _check_side(side: str) -> None:
    if side not in (ENTRY, EXIT):
        raise ValueError(f"side must be 'entry' or 'exit', not {side!r}")
