"""Polygon / Massive (https://api.massive.com): stock snapshots, option snapshots, aggregates.

Auth: `apiKey` query parameter (also appended to `next_url` pages, which omit it). Errors come
as `{"status": "ERROR" | "NOT_AUTHORIZED", "error" | "message": …}` with a matching HTTP status.
Option rows read the real `last_quote` bid/ask, greeks, IV and open interest (the old client
read no price at all, so every Polygon row was dropped). Unlike before, Polygon sits behind a
breaker like every other provider.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from optionsengine.lib.option_contracts import OptionRight, parse_occ_symbol
from optionsengine.marketdata.candles import lookback, timeframe_minutes
from optionsengine.marketdata.errors import NoDataError
from optionsengine.marketdata.providers.http import HttpProvider
from optionsengine.marketdata.providers.parsing import (
    decimal_or_none,
    from_epoch,
    int_or_none,
    mid_or_last,
    price_or_none,
    required_price,
)
from optionsengine.marketdata.types import (
    Candle,
    CandleSeries,
    OptionChain,
    OptionContract,
    OptionGreeks,
    OptionQuote,
    StockQuote,
)

_SPANS = {"1m": (1, "minute"), "5m": (5, "minute"), "15m": (15, "minute"), "30m": (30, "minute"),
          "1h": (1, "hour"), "4h": (4, "hour"), "1d": (1, "day")}
_MAX_PAGES = 20


class PolygonProvider(HttpProvider):
    name = "polygon"
    default_base_url = "https://api.massive.com"

    def __init__(self, *, api_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api_key = api_key

    def auth_params(self) -> dict[str, str]:
        return {"apiKey": self._api_key}

    def stock_quote(self, symbol: str, now: datetime) -> StockQuote:
        body = self.get_json(f"/v2/snapshot/locale/us/markets/stocks/tickers/{symbol}") or {}
        ticker = body.get("ticker") or {}
        quote, trade = ticker.get("lastQuote") or {}, ticker.get("lastTrade") or {}
        # Polygon's v2 snapshot: lowercase p = bid price, uppercase P = ask price.
        bid, ask = price_or_none(quote.get("p")), price_or_none(quote.get("P"))
        last = price_or_none(trade.get("p")) or price_or_none((ticker.get("min") or {}).get("c"))
        price = mid_or_last(bid, ask, last) or price_or_none((ticker.get("day") or {}).get("c"))
        if price is None:
            raise NoDataError(f"polygon snapshot for {symbol} has no price")
        stamp = quote.get("t") or trade.get("t") or ticker.get("updated")
        return StockQuote(symbol, price, bid, ask, last, from_epoch(stamp) if stamp else now, self.name)

    def _quote(self, row: dict[str, Any], now: datetime) -> OptionQuote | None:
        details = row.get("details") or {}
        root, expiration, right, strike = parse_occ_symbol(details["ticker"])
        last_quote = row.get("last_quote") or {}
        bid, ask = price_or_none(last_quote.get("bid")), price_or_none(last_quote.get("ask"))
        last = price_or_none((row.get("last_trade") or {}).get("price"))
        mid = mid_or_last(bid, ask, last) or price_or_none((row.get("day") or {}).get("close"))
        if mid is None:
            return None
        raw_greeks = row.get("greeks") or {}
        greeks = None
        if all(raw_greeks.get(g) is not None for g in ("delta", "gamma", "theta", "vega")):
            greeks = OptionGreeks(*(decimal_or_none(raw_greeks[g]) for g in ("delta", "gamma", "theta", "vega")))
        contract_type = details.get("contract_type")
        stamp = last_quote.get("last_updated")
        return OptionQuote(
            contract=OptionContract(root, expiration, OptionRight(contract_type) if contract_type else right, strike),
            bid=bid, ask=ask, mid=mid, last=last,
            iv=decimal_or_none(row.get("implied_volatility")),
            greeks=greeks,
            open_interest=int_or_none(row.get("open_interest")),
            volume=int_or_none((row.get("day") or {}).get("volume")),
            underlying_price=price_or_none((row.get("underlying_asset") or {}).get("price")),
            as_of=from_epoch(stamp) if stamp else now,
            provider=self.name,
        )

    def option_chain(self, symbol: str, expiration: date, now: datetime) -> OptionChain:
        url = f"/v3/snapshot/options/{symbol}"
        params: dict[str, Any] | None = {"expiration_date": expiration.isoformat(), "limit": 250}
        quotes: list[OptionQuote] = []
        for _ in range(_MAX_PAGES):
            body = self.get_json(url, params) or {}
            quotes.extend(q for q in (self._quote(row, now) for row in body.get("results") or []) if q is not None)
            if not body.get("next_url"):
                break
            url, params = body["next_url"], None  # the cursor URL carries every filter
        if not quotes:
            raise NoDataError(f"polygon has no {expiration.isoformat()} chain for {symbol}")
        underlying = next((q.underlying_price for q in quotes if q.underlying_price is not None), None)
        return OptionChain(symbol, expiration, underlying, tuple(quotes), now, self.name)

    def option_quote(self, contract: OptionContract, now: datetime) -> OptionQuote:
        body = self.get_json(f"/v3/snapshot/options/{contract.underlying}/O:{contract.occ_symbol}") or {}
        quote = self._quote(body["results"], now) if body.get("results") else None
        if quote is None:
            raise NoDataError(f"polygon has no quote for {contract.occ_symbol}")
        return quote

    def candles(self, symbol: str, timeframe: str, count: int, now: datetime) -> CandleSeries:
        multiplier, span = _SPANS[timeframe]
        start = now - lookback(timeframe_minutes(timeframe), count)
        body = self.get_json(
            f"/v2/aggs/ticker/{symbol}/range/{multiplier}/{span}/{int(start.timestamp() * 1000)}/{int(now.timestamp() * 1000)}",
            {"adjusted": "true", "sort": "desc", "limit": count},
        ) or {}
        bars = [
            Candle(from_epoch(r["t"]), required_price(r["o"]), required_price(r["h"]), required_price(r["l"]),
                   required_price(r["c"]), int(decimal_or_none(r.get("v")) or 0))
            for r in body.get("results") or []
        ]
        if not bars:
            raise NoDataError(f"polygon has no {timeframe} aggregates for {symbol}")
        bars.sort(key=lambda bar: bar.start)
        return CandleSeries(symbol, timeframe, tuple(bars[-count:]), self.name)
