"""Reading provider JSON at the boundary: numbers straight to Decimal, times to aware UTC.

A value that is present but unreadable is a BadResponseError (the provider broke its
contract); absent or zero prices read as "not quoted" (None), because providers send 0 for an
empty side of the book.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from optionsengine.lib import money
from optionsengine.lib.money import MoneyParseError
from optionsengine.marketdata.errors import BadResponseError


def decimal_or_none(raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        return money.to_decimal(raw)
    except MoneyParseError as exc:
        raise BadResponseError(str(exc)) from exc


def price_or_none(raw: Any) -> Decimal | None:
    """A quoted price (4 dp), or None when absent or not positive."""
    value = decimal_or_none(raw)
    return money.price(value) if value is not None and value > 0 else None


def required_price(raw: Any) -> Decimal:
    """A price that must be there and positive (candle OHLC, the underlying's last)."""
    value = price_or_none(raw)
    if value is None:
        raise BadResponseError(f"expected a positive price, got {raw!r}")
    return value


def int_or_none(raw: Any) -> int | None:
    value = decimal_or_none(raw)
    return None if value is None else int(value)


def mid_or_last(bid: Decimal | None, ask: Decimal | None, last: Decimal | None) -> Decimal | None:
    """(bid + ask) / 2 when both sides are quoted, else the last trade, else one side."""
    if bid is not None and ask is not None:
        return money.price((bid + ask) / 2)
    return last if last is not None else (ask if ask is not None else bid)


def from_epoch(raw: Any) -> datetime:
    """Unix time in seconds, milliseconds or nanoseconds (providers use all three)."""
    value = decimal_or_none(raw)
    if value is None:
        raise BadResponseError("missing timestamp")
    if value > 10**17:
        value /= 10**9
    elif value > 10**11:
        value /= 10**3
    return datetime.fromtimestamp(float(value), UTC)


def parse_time(raw: Any) -> datetime:
    """ISO-8601 (naive = UTC) or epoch numbers."""
    if isinstance(raw, str) and not raw.strip().lstrip("-").replace(".", "").isdigit():
        try:
            parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadResponseError(f"unreadable time {raw!r}") from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return from_epoch(raw)
