"""Price anchors: observed prices the simulated market re-anchors a symbol's path to.

Anchors live in the database (`market_price_anchors`) so the web process that accepts a signal
and the workers that price it agree. The simulated provider only sees the `AnchorSource`
protocol, so pure tests pass a `StaticAnchors` instead.

Semantics: the newest anchor for a symbol rescales that symbol's whole path by one factor so
that the path passes through the anchored price at the anchored instant; the path's shape
(returns, candles, volatility) is unchanged, and history leading up to the anchor stays
consistent with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class Anchor:
    symbol: str
    price: Decimal
    anchored_at: datetime


class AnchorSource(Protocol):
    def get(self, symbol: str) -> Anchor | None: ...


class StaticAnchors:
    """An in-memory AnchorSource for pure tests, benchmarks and one-off tools."""

    def __init__(self, anchors: dict[str, Anchor] | None = None) -> None:
        self._anchors = dict(anchors or {})

    def get(self, symbol: str) -> Anchor | None:
        return self._anchors.get(symbol)

    def set(self, anchor: Anchor) -> None:
        self._anchors[anchor.symbol] = anchor


# Within `pinned_reads()` each symbol's anchor is read from the database once and reused, so the
# dozen market-data calls that enrich one signal cost one anchor query and all see the same market.
_pinned: ContextVar[dict[str, Anchor | None] | None] = ContextVar("pinned_anchors", default=None)


@contextlib.contextmanager
def pinned_reads() -> Iterator[None]:
    token = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(token)


class DatabaseAnchors:
    """Reads and writes `PriceAnchor` rows (the model is imported lazily: this module stays
    importable without Django configured)."""

    def get(self, symbol: str) -> Anchor | None:
        pinned = _pinned.get()
        if pinned is not None and symbol in pinned:
            return pinned[symbol]
        from optionsengine.models import PriceAnchor

        row = PriceAnchor.objects.filter(symbol=symbol).only("price", "anchored_at").first()
        anchor = None if row is None else Anchor(symbol, row.price, row.anchored_at)
        if pinned is not None:
            pinned[symbol] = anchor
        return anchor

    def set(self, anchor: Anchor) -> None:
        from optionsengine.lib.rawsql import insert_row
        from optionsengine.models import PriceAnchor

        # One fixed upsert statement: it runs on the webhook hot path (ORM upserts cost ~1 ms of
        # query building there), and it cannot race itself into a duplicate-key error.
        insert_row(
            PriceAnchor,
            {"symbol": anchor.symbol, "price": anchor.price, "anchored_at": anchor.anchored_at},
            conflict=("symbol",), update=("price", "anchored_at"), newer="anchored_at",
        )
