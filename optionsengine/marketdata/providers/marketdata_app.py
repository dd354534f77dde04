"""MarketData.app (https://api.marketdata.app): stock quotes, option chains and quotes, candles.

Auth: `Authorization: Bearer <token>`. Answers are columnar (`{"s": "ok", "bid": [...], ...}`);
`{"s": "no_data"}` (HTTP 404) means nothing matched, `{"s": "error", "errmsg": …}` is an error,
HTTP 203 is a cached answer and as good as 200. Chains are requested for one expiration (the
old client downloaded every expiry), and the real bid/ask, greeks, IV and open interest are read
instead of being approximated.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from optionsengine.lib.option_contracts import OptionRight, parse_occ_symbol
from optionsengine.marketdata.errors import NoDataError, ProviderError
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

_RESOLUTIONS = {"1m": "1", "5m": "5", "15m": "15", "30m": "30", "1h": "H", "4h": "4H", "1d": "D"}


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Columnar arrays → one dict per row."""
    columns = {key: value for key, value in body.items() if isinstance(value, list)}
    length = max((len(v) for v in columns.values()), default=0)
    return [{key: (values[i] if i < len(values) else None) for key, values in columns.items()} for i in range(length)]


class MarketDataAppProvider(HttpProvider):
    name = "marketdata"
    default_base_url = "https://api.marketdata.app"

    def __init__(self, *, api_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    def auth_headers(self) -> dict[str, str]:
        return self._headers

    def error_from_body(self, status: int, body: Any) -> ProviderError | None:
        if isinstance(body, dict) and body.get("s") == "no_data":
            return NoDataError("marketdata: no_data", status=status)
        return super().error_from_body(status, body)

    def _ok_rows(self, path: str, params: dict[str, Any] | None, what: str) -> list[dict[str, Any]]:
        body = self.get_json(path, params) or {}
        rows = _rows(body) if body.get("s") == "ok" else []
        if not rows:
            raise NoDataError(f"marketdata has no {what}")
        return rows

    def stock_quote(self, symbol: str, now: datetime) -> StockQuote:
        row = self._ok_rows(f"/v1/stocks/quotes/{symbol}/", None, f"quote for {symbol}")[0]
        bid, ask, last = price_or_none(row.get("bid")), price_or_none(row.get("ask")), price_or_none(row.get("last"))
        price = price_or_none(row.get("mid")) or mid_or_last(bid, ask, last)
        if price is None:
            raise NoDataError(f"marketdata quote for {symbol} has no price")
        as_of = from_epoch(row["updated"]) if row.get("updated") else now
        return StockQuote(symbol, price, bid, ask, last, as_of, self.name)

    def _quote(self, row: dict[str, Any], now: datetime) -> OptionQuote | None:
        root, expiration, right, strike = parse_occ_symbol(row["optionSymbol"])
        bid, ask, last = price_or_none(row.get("bid")), price_or_none(row.get("ask")), price_or_none(row.get("last"))
        mid = mid_or_last(bid, ask, last) or price_or_none(row.get("mid"))
        if mid is None:
            return None
        greeks = None
        if all(row.get(g) is not None for g in ("delta", "gamma", "theta", "vega")):
            greeks = OptionGreeks(*(decimal_or_none(row[g]) for g in ("delta", "gamma", "theta", "vega")))
        side = str(row.get("side") or right).lower()
        return OptionQuote(
            contract=OptionContract(root, expiration, OptionRight.CALL if side.startswith("c") else OptionRight.PUT, strike),
            bid=bid, ask=ask, mid=mid, last=last,
            iv=decimal_or_none(row.get("iv")),
            greeks=greeks,
            open_interest=int_or_none(row.get("openInterest")),
            volume=int_or_none(row.get("volume")),
            underlying_price=price_or_none(row.get("underlyingPrice")),
            as_of=from_epoch(row["updated"]) if row.get("updated") else now,
            provider=self.name,
        )

    def option_chain(self, symbol: str, expiration: date, now: datetime) -> OptionChain:
        rows = self._ok_rows(
            f"/v1/options/chain/{symbol}/", {"expiration": expiration.isoformat()}, f"{expiration} chain for {symbol}"
        )
        quotes = tuple(q for q in (self._quote(row, now) for row in rows) if q is not None)
        underlying = next((q.underlying_price for q in quotes if q.underlying_price is not None), None)
        return OptionChain(symbol, expiration, underlying, quotes, now, self.name)

    def option_quote(self, contract: OptionContract, now: datetime) -> OptionQuote:
        occ = contract.occ_symbol
        quote = self._quote(self._ok_rows(f"/v1/options/quotes/{occ}/", None, f"quote for {occ}")[0], now)
        if quote is None:
            raise NoDataError(f"marketdata quote for {occ} has no price")
        return quote

    def candles(self, symbol: str, timeframe: str, count: int, now: datetime) -> CandleSeries:
        rows = self._ok_rows(
            f"/v1/stocks/candles/{_RESOLUTIONS[timeframe]}/{symbol}/",
            {"to": int(now.timestamp()), "countback": count},
            f"{timeframe} candles for {symbol}",
        )
        bars = [
            Candle(from_epoch(r["t"]), required_price(r["o"]), required_price(r["h"]), required_price(r["l"]),
                   required_price(r["c"]), int_or_none(r.get("v")) or 0)
            for r in rows
        ]
        bars.sort(key=lambda bar: bar.start)
        return CandleSeries(symbol, timeframe, tuple(bars[-count:]), self.name)
