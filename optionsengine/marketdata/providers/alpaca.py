"""Alpaca market data (https://data.alpaca.markets): stock quotes, option snapshots, bars.

Auth: `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` headers. Option snapshots carry the real
bid/ask (`latestQuote.bp/ap`), last trade, greeks and implied volatility; Alpaca does not
publish open interest there. Feeds default to the free ones (`iex` stocks, `indicative`
options) and are settings.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from optionsengine.lib.option_contracts import parse_occ_symbol
from optionsengine.marketdata.candles import lookback, timeframe_minutes
from optionsengine.marketdata.errors import NoDataError
from optionsengine.marketdata.providers.http import HttpProvider
from optionsengine.marketdata.providers.parsing import (
    decimal_or_none,
    int_or_none,
    mid_or_last,
    parse_time,
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

_TIMEFRAMES = {"1m": "1Min", "5m": "5Min", "15m": "15Min", "30m": "30Min", "1h": "1Hour", "4h": "4Hour", "1d": "1Day"}
_MAX_PAGES = 20


class AlpacaProvider(HttpProvider):
    name = "alpaca"
    default_base_url = "https://data.alpaca.markets"

    def __init__(self, *, api_key: str, secret_key: str, stock_feed: str = "iex", option_feed: str = "indicative", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._headers = {"APCA-API-KEY-ID": api_key, "APCA-API-SECRET-KEY": secret_key}
        self._stock_feed = stock_feed
        self._option_feed = option_feed

    def auth_headers(self) -> dict[str, str]:
        return self._headers

    def stock_quote(self, symbol: str, now: datetime) -> StockQuote:
        body = self.get_json(f"/v2/stocks/{symbol}/quotes/latest", {"feed": self._stock_feed})
        quote = (body or {}).get("quote") or {}
        bid, ask = price_or_none(quote.get("bp")), price_or_none(quote.get("ap"))
        price = mid_or_last(bid, ask, None)
        if price is None:
            raise NoDataError(f"alpaca has no quote for {symbol}")
        as_of = parse_time(quote["t"]) if quote.get("t") else now
        return StockQuote(symbol, price, bid, ask, None, as_of, self.name)

    def _snapshot_quote(self, occ: str, snap: dict[str, Any], now: datetime) -> OptionQuote | None:
        root, expiration, right, strike = parse_occ_symbol(occ)
        latest = snap.get("latestQuote") or {}
        trade = snap.get("latestTrade") or {}
        bid, ask = price_or_none(latest.get("bp")), price_or_none(latest.get("ap"))
        last = price_or_none(trade.get("p"))
        mid = mid_or_last(bid, ask, last)
        if mid is None:
            return None
        raw_greeks = snap.get("greeks") or {}
        greeks = None
        if all(raw_greeks.get(g) is not None for g in ("delta", "gamma", "theta", "vega")):
            greeks = OptionGreeks(*(decimal_or_none(raw_greeks[g]) for g in ("delta", "gamma", "theta", "vega")))
        return OptionQuote(
            contract=OptionContract(root, expiration, right, strike),
            bid=bid, ask=ask, mid=mid, last=last,
            iv=decimal_or_none(snap.get("impliedVolatility")),
            greeks=greeks,
            open_interest=None,
            volume=int_or_none((snap.get("dailyBar") or {}).get("v")),
            underlying_price=None,
            as_of=parse_time(latest["t"]) if latest.get("t") else now,
            provider=self.name,
        )

    def option_chain(self, symbol: str, expiration: date, now: datetime) -> OptionChain:
        params: dict[str, Any] = {"expiration_date": expiration.isoformat(), "feed": self._option_feed, "limit": 1000}
        quotes: list[OptionQuote] = []
        for _ in range(_MAX_PAGES):
            body = self.get_json(f"/v1beta1/options/snapshots/{symbol}", params) or {}
            for occ, snap in (body.get("snapshots") or {}).items():
                quote = self._snapshot_quote(occ, snap, now)
                if quote is not None:
                    quotes.append(quote)
            token = body.get("next_page_token")
            if not token:
                break
            params = {**params, "page_token": token}
        if not quotes:
            raise NoDataError(f"alpaca has no {expiration.isoformat()} chain for {symbol}")
        return OptionChain(symbol, expiration, None, tuple(quotes), now, self.name)

    def option_quote(self, contract: OptionContract, now: datetime) -> OptionQuote:
        occ = contract.occ_symbol
        body = self.get_json("/v1beta1/options/snapshots", {"symbols": occ, "feed": self._option_feed}) or {}
        snap = (body.get("snapshots") or {}).get(occ)
        quote = self._snapshot_quote(occ, snap, now) if snap else None
        if quote is None:
            raise NoDataError(f"alpaca has no quote for {occ}")
        return quote

    def candles(self, symbol: str, timeframe: str, count: int, now: datetime) -> CandleSeries:
        params = {
            "timeframe": _TIMEFRAMES[timeframe],
            "start": (now - lookback(timeframe_minutes(timeframe), count)).isoformat(),
            "end": now.isoformat(),
            "limit": count,
            "sort": "desc",  # newest first, so `limit` keeps the latest bars
            "feed": self._stock_feed,
            "adjustment": "raw",
        }
        body = self.get_json(f"/v2/stocks/{symbol}/bars", params) or {}
        bars = [
            Candle(parse_time(b["t"]), required_price(b["o"]), required_price(b["h"]), required_price(b["l"]),
                   required_price(b["c"]), int_or_none(b.get("v")) or 0)
            for b in (body.get("bars") or [])
        ]
        if not bars:
            raise NoDataError(f"alpaca has no {timeframe} bars for {symbol}")
        return CandleSeries(symbol, timeframe, tuple(reversed(bars)), self.name)
