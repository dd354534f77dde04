"""Which option to buy for a signal: expiration by setup type, strike from the listed chain (SPEC §5).

Pure: `now` and the chain are passed in. The service asks `target_expiration` which chain to fetch,
then `choose_contract` picks the strike from it. Failures come back as SPEC reason codes (not
exceptions) so both engines can record a HOLD with a stable reason.

Decisions (see the module's tests):
- Target DTE per setup type is the reference's effective default (orchestrator §5.6 with
  `MAX_HOLD_DAYS` = 5): SCALP 5, SWING 21, POSITION 90, LEAPS 180 calendar days.
- SCALP and SWING use the first weekly or monthly expiry; POSITION and LEAPS use monthlies only,
  because weeklies are listed just a few weeks out for most underlyings, so a 90-day "weekly"
  would name a chain no real provider has.
- "Near the money" means within max(2 listed strike increments, 2 % of spot) of spot. The
  increment is the chain's finest spacing for that right (the spacing at the money); a chain with
  a single strike falls back to the symbol-agnostic default increment. Farther than that, the
  near-money strikes are missing from the chain and buying a deep OTM/ITM contract instead would
  be a different trade than the signal asked for.
- When the chain has nothing on the required side of spot (calls: nothing at or above),
  `choose_strike` takes the nearest listed strike on the other side; it is accepted if it is
  still near the money by the rule above.
- Decimal values in `rationale` are strings so the mapping stores as JSON without float rounding.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from math import floor

from optionsengine.lib import money
from optionsengine.lib.option_contracts import (
    OptionRight,
    choose_expiration,
    choose_strike,
    days_to_expiry,
    default_strike_increment,
)
from optionsengine.marketdata.types import OptionChain, OptionQuote
from signals_app.engines.outcome import ContractChoice
from signals_app.engines.reasons import NO_STRIKE_NEAR_MONEY, OPTION_QUOTE_UNAVAILABLE
from signals_app.engines.snapshot import LEAPS, LONG, POSITION, SCALP, SHORT, SWING

# Calendar days from today (New York) to the earliest acceptable expiry, per setup type.
TARGET_DTE: dict[str, int] = {SCALP: 5, SWING: 21, POSITION: 90, LEAPS: 180}
# Setup types whose expiry is far enough out that only monthlies are reliably listed.
MONTHLIES_ONLY = frozenset({POSITION, LEAPS})

NEAR_MONEY_INCREMENTS = 2  # listed strike steps
NEAR_MONEY_PCT = Decimal("2")  # percent of spot
_HUNDRED = Decimal(100)


def target_expiration(today_ny: date, setup_type: str) -> date:
    """The first listed expiry on or after today + the setup's target DTE (holiday Fridays → Thursday)."""
    if setup_type not in TARGET_DTE:
        raise ValueError(f"unknown setup type {setup_type!r}")
    return choose_expiration(
        today_ny, TARGET_DTE[setup_type], weeklies=setup_type not in MONTHLIES_ONLY
    )


def near_money_tolerance(spot: Decimal, strikes: list[Decimal]) -> Decimal:
    """How far (USD) from spot a strike may be and still count as near the money."""
    gaps = [b - a for a, b in zip(strikes, strikes[1:], strict=False) if b > a]
    increment = min(gaps) if gaps else default_strike_increment(spot)
    return max(NEAR_MONEY_INCREMENTS * increment, spot * NEAR_MONEY_PCT / _HUNDRED)


def spread_pct(quote: OptionQuote) -> Decimal | None:
    """(ask − bid) / mid × 100, 2 dp; None when the provider gave no two-sided quote or no mid."""
    if quote.bid is None or quote.ask is None or quote.mid <= 0:
        return None
    return money.quantize((quote.ask - quote.bid) / quote.mid * _HUNDRED, 2)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def choose_contract(direction: str, spot: Decimal, chain: OptionChain | None, now: datetime) -> ContractChoice | str:
    """The near-the-money call (long) or put (short) from `chain`, or a SPEC reason code.

    Returns `no_strike_near_money` when the chain lists no strike of that right near spot and
    `option_quote_unavailable` when there is no chain or the chosen quote has no positive mid.
    """
    if direction not in (LONG, SHORT):
        raise ValueError(f"direction must be 'long' or 'short', not {direction!r}")
    if chain is None:
        return OPTION_QUOTE_UNAVAILABLE
    right = OptionRight.for_direction(direction)
    strikes = chain.strikes(right)
    if not strikes:
        return NO_STRIKE_NEAR_MONEY
    strike = choose_strike(spot, right, listed=strikes)
    tolerance = near_money_tolerance(spot, strikes)
    if abs(strike - spot) > tolerance:
        return NO_STRIKE_NEAR_MONEY
    quote = next(
        (q for q in chain.quotes if q.contract.right is right and q.contract.strike.compare(strike) == 0), None
    )
    if quote is None or quote.mid <= 0:
        return OPTION_QUOTE_UNAVAILABLE
    greeks = quote.greeks
    return ContractChoice(
        right=right.value,
        strike=strike,
        expiration=chain.expiration,
        entry_price=money.price(quote.mid),
        # Whole days left until 16:00 New York on expiry; a same-day expiry is 0.
        dte=floor(days_to_expiry(now, chain.expiration)),
        rationale={
            "option_symbol": quote.contract.option_symbol,
            "spot": str(spot),
            "strike_distance": str(abs(strike - spot)),
            "near_money_tolerance": str(tolerance),
            "bid": _text(quote.bid),
            "ask": _text(quote.ask),
            "mid": str(quote.mid),
            "spread_pct": _text(spread_pct(quote)),
            "open_interest": quote.open_interest,
            "volume": quote.volume,
            "iv": _text(quote.iv),
            "delta": _text(greeks.delta if greeks else None),
            "quote_stale": quote.stale,
            "provider": quote.provider,
        },
    )
