"""The `fixture` provider: recorded market data from one JSON file (format: docs/market-data.md).

Lets a user or a test reproduce a decision exactly from recorded inputs. Anything the file
does not hold for a symbol behaves like a provider with no data (NoDataError). Numbers may be
JSON numbers or numeric strings; they are parsed straight to Decimal. The file is read and
checked once, when the provider is built; a malformed file raises FixtureError naming the
offending entry.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from optionsengine.lib import money
from optionsengine.lib.money import MoneyParseError
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.base import Provider
from optionsengine.marketdata.candles import aggregate
from optionsengine.marketdata.errors import NoDataError, ProviderError
from optionsengine.marketdata.providers.parsing import mid_or_last, parse_time
from optionsengine.marketdata.types import (
    Candle,
    CandleSeries,
    DealerPosition,
    FlowEntry,
    GexSnapshot,
    IvRank,
    OptionChain,
    OptionContract,
    OptionGreeks,
    OptionQuote,
    OptionsFlow,
    StockQuote,
)


class FixtureError(ValueError):
    pass


def _price(raw: Any) -> Decimal:
    return money.price(money.to_decimal(raw))


def _opt_price(raw: Any) -> Decimal | None:
    return None if raw is None else _price(raw)


def _opt_dec(raw: Any) -> Decimal | None:
    return None if raw is None else money.to_decimal(raw)


def _opt_int(raw: Any) -> int | None:
    return None if raw is None else int(money.to_decimal(raw))


class FixtureProvider(Provider):
    name = "fixture"
    cacheable = False

    def __init__(self, path: Path) -> None:
        try:
            document = json.loads(Path(path).read_text(), parse_float=Decimal)
            self._default_as_of = parse_time(document["as_of"]) if "as_of" in document else None
            self._symbols: dict[str, dict[str, Any]] = {
                symbol.upper(): self._load_symbol(symbol.upper(), entry)
                for symbol, entry in document.get("symbols", {}).items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError, MoneyParseError, ProviderError) as exc:
            raise FixtureError(f"market data fixture {path}: {exc}") from exc

    def _as_of(self, raw: dict[str, Any], now: datetime) -> datetime:
        if "as_of" in raw:
            return parse_time(raw["as_of"])
        return self._default_as_of or now

    def _load_symbol(self, symbol: str, entry: dict[str, Any]) -> dict[str, Any]:
        loaded: dict[str, Any] = {"raw": entry}
        loaded["candles"] = {
            timeframe: [
                Candle(parse_time(c["start"]), _price(c["open"]), _price(c["high"]), _price(c["low"]),
                       _price(c["close"]), int(money.to_decimal(c.get("volume", 0))))
                for c in rows
            ]
            for timeframe, rows in entry.get("candles", {}).items()
        }
        loaded["chains"] = {
            date.fromisoformat(expiry): self._load_chain(symbol, date.fromisoformat(expiry), chain)
            for expiry, chain in entry.get("chains", {}).items()
        }
        return loaded

    def _load_chain(self, symbol: str, expiration: date, chain: dict[str, Any]) -> dict[str, Any]:
        quotes = []
        for row in chain["contracts"]:
            bid, ask, last = _opt_price(row.get("bid")), _opt_price(row.get("ask")), _opt_price(row.get("last"))
            has_greeks = all(row.get(g) is not None for g in ("delta", "gamma", "theta", "vega"))
            quotes.append(
                {
                    "contract": OptionContract(symbol, expiration, OptionRight(row["right"]), money.to_decimal(row["strike"])),
                    "bid": bid, "ask": ask, "last": last,
                    "mid": mid_or_last(bid, ask, last) or Decimal(0),
                    "iv": _opt_dec(row.get("iv")),
                    "greeks": OptionGreeks(*(money.to_decimal(row[g]) for g in ("delta", "gamma", "theta", "vega")))
                    if has_greeks else None,
                    "open_interest": _opt_int(row.get("open_interest")),
                    "volume": _opt_int(row.get("volume")),
                }
            )
        return {"underlying_price": _opt_price(chain.get("underlying_price")), "quotes": quotes, "raw": chain}

    def _entry(self, symbol: str, item: str) -> Any:
        found = self._symbols.get(symbol, {})
        value = found.get(item) if item in ("candles", "chains") else found.get("raw", {}).get(item)
        if value is None or (isinstance(value, dict | list) and not value):
            raise NoDataError(f"fixture has no {item} for {symbol}")
        return value

    def stock_quote(self, symbol: str, now: datetime) -> StockQuote:
        raw = self._entry(symbol, "quote")
        bid, ask, last = _opt_price(raw.get("bid")), _opt_price(raw.get("ask")), _opt_price(raw.get("last"))
        price = _opt_price(raw.get("price")) or mid_or_last(bid, ask, last)
        if price is None:
            raise NoDataError(f"fixture quote for {symbol} has no price")
        return StockQuote(symbol, price, bid, ask, last, self._as_of(raw, now), self.name)

    def option_chain(self, symbol: str, expiration: date, now: datetime) -> OptionChain:
        chain = self._entry(symbol, "chains").get(expiration)
        if chain is None:
            raise NoDataError(f"fixture has no {expiration.isoformat()} chain for {symbol}")
        as_of = self._as_of(chain["raw"], now)
        quotes = tuple(
            OptionQuote(**q, underlying_price=chain["underlying_price"], as_of=as_of, provider=self.name)
            for q in chain["quotes"]
        )
        return OptionChain(symbol, expiration, chain["underlying_price"], quotes, as_of, self.name)

    def candles(self, symbol: str, timeframe: str, count: int, now: datetime) -> CandleSeries:
        by_timeframe = self._entry(symbol, "candles")
        if timeframe in by_timeframe:
            bars = by_timeframe[timeframe]
        elif "1m" in by_timeframe:
            bars = aggregate(by_timeframe["1m"], timeframe)
        else:
            raise NoDataError(f"fixture has no {timeframe} (or 1m) candles for {symbol}")
        # A replay moving through the recorded day must not see bars from its future.
        visible = [bar for bar in bars if bar.start <= now]
        if not visible:
            raise NoDataError(f"fixture has no {timeframe} candles for {symbol} before {now.isoformat()}")
        return CandleSeries(symbol, timeframe, tuple(visible[-count:]), self.name)

    def gex(self, symbol: str, now: datetime) -> GexSnapshot:
        raw = self._entry(symbol, "gex")
        return GexSnapshot(
            symbol=symbol,
            spot=_price(raw["spot"]),
            net_gex=money.cash(money.to_decimal(raw["net_gex"])),
            call_gex=money.cash(money.to_decimal(raw.get("call_gex", 0))),
            put_gex=money.cash(money.to_decimal(raw.get("put_gex", 0))),
            zero_gamma_level=_opt_price(raw.get("zero_gamma_level")),
            dealer_position=DealerPosition(raw.get("dealer_position", DealerPosition.NEUTRAL)),
            as_of=self._as_of(raw, now),
            provider=self.name,
        )

    def flow(self, symbol: str, now: datetime) -> OptionsFlow:
        rows = self._entry(symbol, "flow")
        entries = []
        for row in rows:
            price, size = _price(row["price"]), int(money.to_decimal(row["size"]))
            contract = OptionContract(
                symbol, date.fromisoformat(row["expiration"]), OptionRight(row["right"]), money.to_decimal(row["strike"])
            )
            premium = money.cash(money.to_decimal(row["premium"]) if "premium" in row else price * size * 100)
            entries.append(FlowEntry(contract, row["side"], size, price, premium, parse_time(row["at"])))
        return OptionsFlow(symbol, tuple(entries), now, self.name)

    def iv_rank(self, symbol: str, now: datetime) -> IvRank:
        raw = self._entry(symbol, "iv_rank")
        if isinstance(raw, dict):
            return IvRank(symbol, money.to_decimal(raw["iv_rank"]), _opt_dec(raw.get("iv")), self._as_of(raw, now), self.name)
        return IvRank(symbol, money.to_decimal(raw), None, self._default_as_of or now, self.name)
