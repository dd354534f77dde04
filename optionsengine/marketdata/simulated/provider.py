"""The `simulated` provider: a deterministic offline market (the default; pure — anchors come
through an injected AnchorSource, time through `now`).

Same seed + symbol + instant → same quote, chain and candles in every process, so replays and
demos reproduce exactly. Prices follow `path.LogPath` around the symbol's reference price, or
around the newest anchor (see `anchors`).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

from optionsengine.lib import market_calendar, money, option_contracts
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.anchors import AnchorSource
from optionsengine.marketdata.base import Provider
from optionsengine.marketdata.errors import NoDataError
from optionsengine.marketdata.gex import gex_from_quotes
from optionsengine.marketdata.simulated.bars import simulated_candles
from optionsengine.marketdata.simulated.chain import build_chain
from optionsengine.marketdata.simulated.path import (
    UNITS_PER_DAY,
    LogPath,
    market_units,
    symbol_key,
    volatility_regime,
)
from optionsengine.marketdata.simulated.profiles import SymbolProfile, profile_for
from optionsengine.marketdata.types import (
    CandleSeries,
    FlowEntry,
    GexSnapshot,
    IvRank,
    OptionChain,
    OptionContract,
    OptionQuote,
    OptionsFlow,
    StockQuote,
)

GEX_EXPIRIES = 4  # the nearest listed expiries carry nearly all of the gamma
FLOW_EXPIRIES = 2
FLOW_PRINTS = 20
_FLOW_WINDOW_SECONDS = 3600
# Answers are a pure function of (inputs, now, anchor scale), so recent ones are reused: a signal
# asks for several candle series, GEX and flow at one instant, and so do its neighbours.
_MEMO_SIZE = 256


class SimulatedProvider(Provider):
    name = "simulated"
    cacheable = False

    def __init__(self, *, seed: int, anchors: AnchorSource) -> None:
        self._seed = seed
        self._anchors = anchors
        self._paths: dict[str, LogPath] = {}
        self._memo: dict[tuple, object] = {}

    def _memoized(self, key: tuple, compute):
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = compute()
            if len(self._memo) > _MEMO_SIZE:
                self._memo.pop(next(iter(self._memo)))  # oldest entry (dicts keep insertion order)
        return found

    def _model(self, symbol: str) -> tuple[SymbolProfile, LogPath, float]:
        """(profile, path, scale) where price(t) = scale × exp(path.at(t))."""
        profile = profile_for(symbol)
        path = self._paths.get(symbol)
        if path is None:
            path = self._paths[symbol] = LogPath(symbol_key(self._seed, symbol), profile.volatility)
        anchor = self._anchors.get(symbol)
        if anchor is None:
            return profile, path, float(profile.reference_price)
        return profile, path, float(anchor.price) / math.exp(path.at(market_units(anchor.anchored_at)))

    def spot(self, symbol: str, now: datetime) -> float:
        _, path, scale = self._model(symbol)
        return scale * math.exp(path.at(market_units(now)))

    def stock_quote(self, symbol: str, now: datetime) -> StockQuote:
        profile, path, scale = self._model(symbol)
        value = scale * math.exp(path.at(market_units(now)))
        # A market one cent either side of the last print for liquid names, about a basis point
        # either side elsewhere; the mid is the print, so an anchored price quotes exactly.
        last = Decimal(f"{value:.2f}")
        half = Decimal("0.01") if profile.penny_pilot else max(Decimal("0.01"), Decimal(f"{value * 0.0001:.2f}"))
        return StockQuote(
            symbol=symbol,
            price=money.price(last),
            bid=money.price(last - half),
            ask=money.price(last + half),
            last=money.price(last),
            as_of=now,
            provider=self.name,
        )

    def listed_expirations(self, now: datetime, *, count: int) -> list[date]:
        """The next `count` live expiries (weeklies and monthlies for every simulated symbol)."""
        today = market_calendar.market_date(now)
        listed = option_contracts.listed_expirations(today, today + timedelta(days=7 * count + 7))
        return [day for day in listed if option_contracts.expiry_moment(day) > now][:count]

    def option_chain(self, symbol: str, expiration: date, now: datetime) -> OptionChain:
        return self._memoized(
            ("chain", symbol, expiration, now, self._model(symbol)[2]),
            lambda: self._chain(symbol, expiration, now, only_strike=None),
        )

    def option_quote(self, contract: OptionContract, now: datetime) -> OptionQuote:
        """Prices just this contract (the position refresher asks for one at a time)."""
        chain = self._chain(contract.underlying, contract.expiration, now, only_strike=contract.strike)
        quote = chain.find(contract)
        if quote is None:
            raise NoDataError(f"{contract.occ_symbol} is not listed")
        return quote

    def _chain(self, symbol: str, expiration: date, now: datetime, *, only_strike: Decimal | None) -> OptionChain:
        if option_contracts.weekly_expiration(expiration) != expiration:
            raise NoDataError(f"{symbol} has no expiration listed on {expiration.isoformat()}")
        if option_contracts.expiry_moment(expiration) <= now:
            raise NoDataError(f"{symbol} {expiration.isoformat()} has expired")
        profile, path, scale = self._model(symbol)
        units = market_units(now)
        return build_chain(
            profile=profile,
            key=symbol_key(self._seed, symbol),
            spot=scale * math.exp(path.at(units)),
            now=now,
            expiration=expiration,
            vol_multiplier=volatility_regime(symbol_key(self._seed, symbol), units),
            provider=self.name,
            only_strike=only_strike,
        )

    def candles(self, symbol: str, timeframe: str, count: int, now: datetime) -> CandleSeries:
        profile, path, scale = self._model(symbol)
        bars = self._memoized(
            ("candles", symbol, timeframe, count, now, scale),
            lambda: simulated_candles(path=path, scale=scale, profile=profile, timeframe=timeframe, count=count, now=now),
        )
        if not bars:
            raise NoDataError(f"no simulated {timeframe} candles for {symbol} before {now.isoformat()}")
        return CandleSeries(symbol=symbol, timeframe=timeframe, candles=bars, provider=self.name)

    def gex(self, symbol: str, now: datetime) -> GexSnapshot:
        return self._memoized(("gex", symbol, now, self._model(symbol)[2]), lambda: self._gex(symbol, now))

    def _gex(self, symbol: str, now: datetime) -> GexSnapshot:
        chains = [self.option_chain(symbol, day, now) for day in self.listed_expirations(now, count=GEX_EXPIRIES)]
        return gex_from_quotes(
            symbol=symbol,
            spot=chains[0].underlying_price or Decimal(0),
            quotes=(quote for chain in chains for quote in chain.quotes),
            as_of=now,
            provider=self.name,
        )

    def flow(self, symbol: str, now: datetime) -> OptionsFlow:
        """Prints of the last hour, leaning with the last half hour's move (momentum chasers)."""
        return self._memoized(("flow", symbol, now, self._model(symbol)[2]), lambda: self._flow(symbol, now))

    def _flow(self, symbol: str, now: datetime) -> OptionsFlow:
        _, path, _ = self._model(symbol)
        units = market_units(now)
        momentum = path.at(units) - path.at(units - 30)
        call_buy_share = min(max(0.5 + momentum * 100, 0.2), 0.8)
        quotes = [
            quote
            for day in self.listed_expirations(now, count=FLOW_EXPIRIES)
            for quote in self.option_chain(symbol, day, now).quotes
            if quote.volume
        ]
        quotes.sort(key=lambda q: q.volume or 0, reverse=True)
        window = int(units) // 15  # sides and sizes are drawn per 15-minute window
        entries = []
        for i, quote in enumerate(quotes[: FLOW_PRINTS * 2 : 2]):
            draw = path.noise(window, 100 + i)
            bullish = draw < call_buy_share
            is_call = quote.contract.right is OptionRight.CALL
            side = "buy" if bullish == is_call else "sell"
            price = (quote.ask if side == "buy" else quote.bid) or quote.mid
            size = 10 + int(path.noise(window, 200 + i) * 490)
            entries.append(
                FlowEntry(
                    contract=quote.contract,
                    side=side,
                    size=size,
                    price=price,
                    premium=money.cash(price * size * money.CONTRACT_MULTIPLIER),
                    at=now - timedelta(seconds=int(path.noise(window, 300 + i) * _FLOW_WINDOW_SECONDS)),
                )
            )
        entries.sort(key=lambda e: e.at)
        return OptionsFlow(symbol=symbol, entries=tuple(entries), as_of=now, provider=self.name)

    def iv_rank(self, symbol: str, now: datetime) -> IvRank:
        """Where today's volatility regime sits within its range over the past year (weekly samples)."""
        profile = profile_for(symbol)
        key = symbol_key(self._seed, symbol)
        units = market_units(now)
        history = [volatility_regime(key, units - week * 5 * UNITS_PER_DAY) for week in range(52)]
        current, low, high = history[0], min(history), max(history)
        rank = 50.0 if high == low else (current - low) / (high - low) * 100
        return IvRank(
            symbol=symbol,
            iv_rank=money.quantize(Decimal(f"{rank:.4f}"), 2),
            iv=money.quantize(Decimal(f"{profile.volatility * current:.6f}"), 4),
            as_of=now,
            provider=self.name,
        )
