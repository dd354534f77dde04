"""Display helpers for money and ratios on the operator pages (Decimals in, text out)."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

DASH = "—"


@register.filter
def usd(value: Decimal | None) -> str:
    """-1234.5 → "−$1,234.50"; None → "—"."""
    if value is None:
        return DASH
    sign = "−" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


@register.filter
def ratio(value: Decimal | None) -> str:
    """Profit factor / R: "∞" when there was no loss, "—" when there is nothing to compare."""
    if value is None:
        return DASH
    if value.is_infinite():
        return "∞"
    return f"{value:,}"


@register.filter
def percent(value: Decimal | None) -> str:
    return DASH if value is None else f"{value}%"


@register.filter
def pnl_class(value: Decimal | None) -> str:
    """CSS class of the base layout: green for gains, red for losses."""
    if value is None or value == 0:
        return "muted"
    return "ok" if value > 0 else "bad"
