"""Market data for every stage: quotes, chains, candles, GEX, flow and IV rank.

Entry points (each goes through the configured fallback chain, see `service`):

    from optionsengine import marketdata
    quote = marketdata.get_service().stock_quote("SPY")        # StockQuote (stale=True if last-known)
    chain = marketdata.get_service().option_chain("SPY", expiry)
    marketdata.health_status()                                   # for /health
    marketdata.record_observed_price("SPY", Decimal("601.25"), at)  # re-anchor the simulated market

All of them raise `MarketDataUnavailable` (reason `market_data_unavailable`) when no provider
can answer. Imports of Django-backed modules are deferred so the pure submodules (types,
simulated core, gex, candles) stay importable without settings.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from optionsengine.marketdata.anchors import Anchor, pinned_reads
from optionsengine.marketdata.errors import MARKET_DATA_UNAVAILABLE, MarketDataUnavailable

if TYPE_CHECKING:
    from optionsengine.marketdata.service import MarketDataService

__all__ = [
    "MARKET_DATA_UNAVAILABLE",
    "pinned_reads",
    "MarketDataUnavailable",
    "get_service",
    "health_status",
    "observed_anchor",
    "record_observed_price",
]

logger = logging.getLogger(__name__)


def get_service() -> MarketDataService:
    from optionsengine.marketdata.registry import get_service as _get

    return _get()


def health_status() -> dict[str, Any]:
    """`{"status": "ok"|"degraded"|"down", "chain": [...], "providers": [{name, state,
    consecutive_failures, open_until, last_error}]}` — never raises."""
    try:
        return get_service().health()
    except Exception as exc:  # /health reports problems, it does not raise them
        logger.exception("market data health check failed")
        return {"status": "down", "chain": [], "providers": [], "error": f"{type(exc).__name__}: {exc}"[:300]}


def observed_anchor(symbol: str, price: Decimal, at: datetime) -> Anchor | None:
    """The anchor a signal's `price` would set for the simulated market (SPEC §5), or None.

    None when `simulated` is not in the provider chain (real providers are never overridden) or the
    price fails validity or the symbol's sanity bounds (logged): an alert with a typo must not move
    the market. Pure of I/O: a writer stores the anchor in its own statement (signal intake does).
    """
    from django.conf import settings

    from optionsengine.lib import money
    from optionsengine.marketdata.errors import InvalidDataError
    from optionsengine.marketdata.validation import check_underlying_price

    if "simulated" not in settings.MARKET_DATA_PROVIDERS:
        return None
    try:
        rounded = money.price(price)  # validate what would be stored, not what was sent
        check_underlying_price(symbol, rounded)
    except (InvalidDataError, ArithmeticError) as exc:
        logger.warning("not re-anchoring %s to %s: %s", symbol, price, exc)
        return None
    return Anchor(symbol, rounded, at)


def record_observed_price(symbol: str, price: Decimal, at: datetime) -> bool:
    """Re-anchor the simulated market to `price` (see `observed_anchor`); whether an anchor was written.

    Writes one row: call it inside the caller's transaction or outside any, not around I/O.
    """
    from optionsengine.marketdata.anchors import DatabaseAnchors

    anchor = observed_anchor(symbol, price, at)
    if anchor is None:
        return False
    DatabaseAnchors().set(anchor)
    return True
