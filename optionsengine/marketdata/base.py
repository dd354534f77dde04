"""The provider interface every market-data source implements (pure: no Django).

Providers are told the time (`now`, from the clock at the service edge) instead of reading a
clock, so replays are reproducible. Anything a provider does not serve raises NoDataError,
which the service treats like "this provider has nothing": it moves on without counting a
failure against the provider's breaker.
"""

from __future__ import annotations

from datetime import date, datetime

from optionsengine.marketdata.errors import NoDataError
from optionsengine.marketdata.types import (
    CandleSeries,
    GexSnapshot,
    IvRank,
    OptionChain,
    OptionContract,
    OptionQuote,
    OptionsFlow,
    StockQuote,
)


class Provider:
    name = "provider"
    # Network providers' answers are cached briefly (rate limits, latency); the simulated and
    # fixture providers answer instantly and must reflect re-anchoring at once.
    cacheable = True

    def _unsupported(self, what: str) -> NoDataError:
        return NoDataError(f"{self.name} does not serve {what}")

    def stock_quote(self, symbol: str, now: datetime) -> StockQuote:
        raise self._unsupported("stock quotes")

    def option_chain(self, symbol: str, expiration: date, now: datetime) -> OptionChain:
        raise self._unsupported("option chains")

    def option_quote(self, contract: OptionContract, now: datetime) -> OptionQuote:
        """Default: look the contract up in its expiry's chain."""
        chain = self.option_chain(contract.underlying, contract.expiration, now)
        quote = chain.find(contract)
        if quote is None:
            raise NoDataError(f"{self.name} has no quote for {contract.occ_symbol}")
        return quote

    def candles(self, symbol: str, timeframe: str, count: int, now: datetime) -> CandleSeries:
        raise self._unsupported("candles")

    def gex(self, symbol: str, now: datetime) -> GexSnapshot:
        raise self._unsupported("gamma exposure")

    def flow(self, symbol: str, now: datetime) -> OptionsFlow:
        raise self._unsupported("options flow")

    def iv_rank(self, symbol: str, now: datetime) -> IvRank:
        raise self._unsupported("IV rank")
