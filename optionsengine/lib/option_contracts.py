"""Which contract to trade: listed expirations, expiration and strike choice, option symbols.

Pure (no Django, no clock). Expiration rules use the NYSE calendar: a weekly or monthly expiry
that falls on an exchange holiday moves to the previous trading day (Good Friday → Thursday).
Time to expiry is measured to 16:00 New York on the expiration date.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from optionsengine.lib import market_calendar
from optionsengine.lib.market_calendar import MARKET_TZ

SECONDS_PER_YEAR = 365 * 24 * 3600
_FRIDAY = 4


class OptionRight(enum.StrEnum):
    CALL = "call"
    PUT = "put"

    @classmethod
    def for_direction(cls, direction: str) -> OptionRight:
        """A long signal buys calls, a short signal buys puts."""
        return cls.CALL if direction == "long" else cls.PUT

    @property
    def letter(self) -> str:
        return "C" if self is OptionRight.CALL else "P"


def _settle_on_trading_day(day: date) -> date:
    return day if market_calendar.is_trading_day(day) else market_calendar.previous_trading_day(day)


def weekly_expiration(day: date) -> date:
    """The expiry of the week containing `day`: its Friday, or the trading day before it."""
    friday = day + timedelta(days=_FRIDAY - day.weekday())
    return _settle_on_trading_day(friday)


def monthly_expiration(year: int, month: int) -> date:
    """Standard monthly expiry: the third Friday, or the trading day before it."""
    first = date(year, month, 1)
    third_friday = first + timedelta(days=(_FRIDAY - first.weekday()) % 7 + 14)
    return _settle_on_trading_day(third_friday)


def listed_expirations(start: date, end: date, *, weeklies: bool = True) -> list[date]:
    """Expirations listed by rule in [start, end]: every weekly (if any) and every monthly."""
    found: set[date] = set()
    if weeklies:
        monday = start - timedelta(days=start.weekday())
        while monday <= end:
            found.add(weekly_expiration(monday))
            monday += timedelta(days=7)
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        found.add(monthly_expiration(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return sorted(day for day in found if start <= day <= end)


def choose_expiration(
    today: date, dte: int, *, listed: Iterable[date] | None = None, weeklies: bool = True
) -> date:
    """The first listed expiry on or after `today + dte` (today = the New York date).

    `listed` comes from a chain when one is available; otherwise the listing rule is used.
    Raises ValueError when a given listing has nothing that far out.
    """
    target = today + timedelta(days=max(dte, 0))
    if listed is not None:
        later = [day for day in listed if day >= target]
        if not later:
            raise ValueError(f"no listed expiration on or after {target.isoformat()}")
        return min(later)
    horizon = target + timedelta(days=70)  # always spans at least one monthly expiry
    return listed_expirations(target, horizon, weeklies=weeklies)[0]


def expiry_moment(expiration: date) -> datetime:
    """16:00 New York on the expiration date, as aware UTC: the instant DTE counts down to."""
    return datetime.combine(expiration, market_calendar.REGULAR_CLOSE, tzinfo=MARKET_TZ).astimezone(UTC)


def years_to_expiry(now: datetime, expiration: date) -> float:
    """Calendar time left until 16:00 New York on the expiry date, in years (never negative)."""
    return max((expiry_moment(expiration) - now).total_seconds(), 0.0) / SECONDS_PER_YEAR


def days_to_expiry(now: datetime, expiration: date) -> float:
    """Fractional calendar days until 16:00 New York on the expiry date (never negative)."""
    return years_to_expiry(now, expiration) * 365


def default_strike_increment(spot: Decimal) -> Decimal:
    """Listed strike spacing near the money when a symbol has no known increment."""
    if spot < 25:
        return Decimal("0.5")
    if spot < 200:
        return Decimal("1")
    if spot < 500:
        return Decimal("2.5")
    return Decimal("5")


def choose_strike(
    spot: Decimal,
    right: OptionRight,
    *,
    increment: Decimal | None = None,
    listed: Iterable[Decimal] | None = None,
) -> Decimal:
    """Calls: the nearest strike at or above spot; puts: at or below.

    From the chain's listed strikes when given (falling back to the nearest listed strike on the
    other side when none qualifies), otherwise by the increment.
    """
    if listed is not None:
        strikes = sorted(set(listed))
        if not strikes:
            raise ValueError("empty strike listing")
        if right is OptionRight.CALL:
            return next((k for k in strikes if k >= spot), strikes[-1])
        return next((k for k in reversed(strikes) if k <= spot), strikes[0])
    step = increment if increment is not None else default_strike_increment(spot)
    rounding = ROUND_CEILING if right is OptionRight.CALL else ROUND_FLOOR
    steps = (spot / step).to_integral_value(rounding=rounding)
    return steps * step


def format_strike(strike: Decimal) -> str:
    """602 → "602", 601.50 → "601.5": no trailing zeros, never scientific notation."""
    return format(strike.normalize(), "f")


def option_symbol(underlying: str, expiration: date, right: OptionRight, strike: Decimal) -> str:
    """The internal join key: `SPY-20260313-C-602`."""
    return f"{underlying}-{expiration:%Y%m%d}-{right.letter}-{format_strike(strike)}"


def occ_symbol(underlying: str, expiration: date, right: OptionRight, strike: Decimal) -> str:
    """OCC/OSI compact form: `SPY260313C00602000` (strike × 1000, 8 digits)."""
    mills = int((strike * 1000).to_integral_value())
    return f"{underlying}{expiration:%y%m%d}{right.letter}{mills:08d}"


_OCC = re.compile(r"^(?:O:)?([A-Z0-9.]{1,6})(\d{6})([CP])(\d{8})$")
_INTERNAL = re.compile(r"^([A-Z0-9.^/_]{1,20})-(\d{8})-([CP])-(\d+(?:\.\d+)?)$")


def _right(letter: str) -> OptionRight:
    return OptionRight.CALL if letter == "C" else OptionRight.PUT


def parse_occ_symbol(text: str) -> tuple[str, date, OptionRight, Decimal]:
    """`SPY260313C00602000` or Polygon's `O:SPY260313C00602000` → (root, expiry, right, strike)."""
    match = _OCC.match(text.strip().upper())
    if match is None:
        raise ValueError(f"not an OCC option symbol: {text!r}")
    root, yymmdd, letter, mills = match.groups()
    expiration = datetime.strptime(yymmdd, "%y%m%d").date()
    return root, expiration, _right(letter), Decimal(int(mills)) / 1000


def parse_option_symbol(text: str) -> tuple[str, date, OptionRight, Decimal]:
    """`SPY-20260313-C-602` → (underlying, expiry, right, strike)."""
    match = _INTERNAL.match(text.strip().upper())
    if match is None:
        raise ValueError(f"not an option symbol: {text!r}")
    underlying, yyyymmdd, letter, strike = match.groups()
    return underlying, datetime.strptime(yyyymmdd, "%Y%m%d").date(), _right(letter), Decimal(strike)
