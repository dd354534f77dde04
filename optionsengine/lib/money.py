"""Money and price precision: every Decimal in the service is shaped here.

Units: option and stock prices are per share/contract-share in USD (4 dp); cash and P&L in USD
(2 dp); quantities are whole contracts (int). One options contract covers 100 shares.
Nothing else calls `quantize` directly.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PRICE_PLACES = 4
CASH_PLACES = 2
PRICE_MAX_DIGITS = 14
CASH_MAX_DIGITS = 16
CONTRACT_MULTIPLIER = 100

_PRICE_EXP = Decimal(1).scaleb(-PRICE_PLACES)
_CASH_EXP = Decimal(1).scaleb(-CASH_PLACES)


class MoneyParseError(ValueError):
    pass


def quantize(value: Decimal, places: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """The one rounding helper: round half up to `places` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding)


def price(value: Decimal) -> Decimal:
    return value.quantize(_PRICE_EXP, rounding=ROUND_HALF_UP)


def cash(value: Decimal) -> Decimal:
    return value.quantize(_CASH_EXP, rounding=ROUND_HALF_UP)


def round_to_tick(value: Decimal, tick: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to a multiple of `tick` (e.g. 0.01 or 0.05), keeping the tick's exponent."""
    steps = (value / tick).quantize(Decimal(1), rounding=rounding)
    return (steps * tick).quantize(tick)


def to_decimal(value: object) -> Decimal:
    """Parse a boundary value (JSON number or numeric string) into a finite Decimal.

    Floats are converted through `str` so 0.1 stays 0.1; bools are refused (JSON `true` is not 1).
    """
    if isinstance(value, bool) or value is None:
        raise MoneyParseError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except InvalidOperation as exc:
            raise MoneyParseError(f"not a number: {value!r}") from exc
    else:
        raise MoneyParseError(f"not a number: {value!r}")
    if not result.is_finite():
        raise MoneyParseError(f"not a finite number: {value!r}")
    return result


def to_decimal_or_none(value: object) -> Decimal | None:
    """`to_decimal`, with None for anything it refuses (engines reading optional payload numbers)."""
    try:
        return to_decimal(value)
    except MoneyParseError:
        return None
