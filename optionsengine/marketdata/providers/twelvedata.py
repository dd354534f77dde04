"""TwelveData (https://api.twelvedata.com): stock quotes and candles; no options.

Auth: `apikey` query parameter. `/quote` carries the latest price in `close` (the old client
read a `price` field that only `/price` has, so every quote came back NaN). TwelveData reports
errors in the body — `{"status": "error", "code": 401, "message": …}`, often with HTTP 200 —
so the body's numeric `code` is classified like an HTTP status.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from optionsengine.lib import market_calendar
from optionsengine.marketdata.errors import BadResponseError, NoDataError, ProviderError, error_for_status
from optionsengine.marketdata.providers.http import HttpProvider
from optionsengine.marketdata.providers.parsing import int_or_none, parse_time, required_price
from optionsengine.marketdata.types import Candle, CandleSeries, StockQuote

_INTERVALS = {"1m": "1min", "5m": "5min", "15m": "15min", "30m": "30min", "1h": "1h", "4h": "4h", "1d": "1day"}


class TwelveDataProvider(HttpProvider):
    name = "twelvedata"
    default_base_url = "https://api.twelvedata.com"

    def __init__(self, *, api_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api_key = api_key

    def auth_params(self) -> dict[str, str]:
        return {"apikey": self._api_key}

    def error_from_body(self, status: int, body: Any) -> ProviderError | None:
        if isinstance(body, dict) and body.get("status") == "error":
            code = body.get("code")
            message = f"twelvedata {code}: {self.error_message(body)}"
            if isinstance(code, int):
                return error_for_status(code, message)
            # No usable code in the body: the HTTP status still tells transient (5xx) from not.
            return error_for_status(status, message) if status >= 400 else BadResponseError(message)
        return super().error_from_body(status, body)

    def stock_quote(self, symbol: str, now: datetime) -> StockQuote:
        body = self.get_json("/quote", {"symbol": symbol}) or {}
        if body.get("close") is None:
            raise NoDataError(f"twelvedata quote for {symbol} has no close")
        last = required_price(body["close"])
        as_of = parse_time(body["timestamp"]) if body.get("timestamp") else now
        return StockQuote(symbol, last, None, None, last, as_of, self.name)

    def _bar_start(self, raw: str, timeframe: str) -> datetime:
        if timeframe == "1d":
            # Daily bars are dated, not timed: start them at that day's open like every provider.
            day = date.fromisoformat(raw[:10])
            session = market_calendar.regular_session(day)
            if session is not None:
                return session[0]
        return parse_time(raw)  # requested with timezone=UTC, so naive means UTC

    def candles(self, symbol: str, timeframe: str, count: int, now: datetime) -> CandleSeries:
        params = {
            "symbol": symbol,
            "interval": _INTERVALS[timeframe],
            "outputsize": count,
            "timezone": "UTC",
            "end_date": now.strftime("%Y-%m-%d %H:%M:%S"),
        }
        body = self.get_json("/time_series", params) or {}
        values = body.get("values") or []
        if not values:
            raise NoDataError(f"twelvedata has no {timeframe} candles for {symbol}")
        bars = [
            Candle(self._bar_start(v["datetime"], timeframe), required_price(v["open"]), required_price(v["high"]),
                   required_price(v["low"]), required_price(v["close"]), int_or_none(v.get("volume")) or 0)
            for v in values
        ]
        bars.sort(key=lambda bar: bar.start)  # the API answers newest first
        return CandleSeries(symbol, timeframe, tuple(bars[-count:]), self.name)
