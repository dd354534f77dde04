"""Refusing impossible prices before they reach a decision (pure).

A price must be finite and positive; a few heavily traded symbols also have sanity bounds
(a SPY print of 6.00 is a unit or symbol mix-up, not a crash). A refused answer sends the
service to the next provider.
"""

from __future__ import annotations

from decimal import Decimal

from optionsengine.marketdata.errors import InvalidDataError
from optionsengine.marketdata.types import CandleSeries, OptionChain, OptionQuote, StockQuote

SANITY_BOUNDS: dict[str, tuple[Decimal, Decimal]] = {
    "SPY": (Decimal(300), Decimal(900)),
    "QQQ": (Decimal(200), Decimal(800)),
    "IWM": (Decimal(100), Decimal(400)),
}


def check_underlying_price(symbol: str, value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise InvalidDataError(f"{symbol} price {value} is not a positive number")
    bounds = SANITY_BOUNDS.get(symbol)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise InvalidDataError(f"{symbol} price {value} is outside its sanity bounds {bounds[0]}–{bounds[1]}")


def check_stock_quote(quote: StockQuote) -> None:
    check_underlying_price(quote.symbol, quote.price)
    if quote.bid is not None and quote.ask is not None and quote.bid > quote.ask:
        raise InvalidDataError(f"{quote.symbol} crossed quote: bid {quote.bid} > ask {quote.ask}")


def check_option_quote(quote: OptionQuote) -> None:
    name = quote.contract.occ_symbol
    if not quote.mid.is_finite() or quote.mid <= 0:
        raise InvalidDataError(f"{name} has no positive price")
    if quote.bid is not None and quote.bid < 0:
        raise InvalidDataError(f"{name} negative bid {quote.bid}")
    if quote.bid is not None and quote.ask is not None and quote.bid > quote.ask:
        raise InvalidDataError(f"{name} crossed quote: bid {quote.bid} > ask {quote.ask}")


def check_chain(chain: OptionChain) -> None:
    if not chain.quotes:
        raise InvalidDataError(f"{chain.underlying} {chain.expiration} chain is empty")
    if chain.underlying_price is not None:
        check_underlying_price(chain.underlying, chain.underlying_price)


def check_candles(series: CandleSeries) -> None:
    if not series.candles:
        raise InvalidDataError(f"no {series.timeframe} candles for {series.symbol}")
    for candle in series.candles:
        if min(candle.open, candle.high, candle.low, candle.close) <= 0 or candle.low > candle.high:
            raise InvalidDataError(f"{series.symbol} candle at {candle.start.isoformat()} is impossible")
