"""The provider chain: the one way the rest of the service gets market data.

For each request, providers are tried in `MARKET_DATA_PROVIDERS` order:
  skip a provider whose breaker is open → call it (transient errors retried with backoff) →
  validate the answer → the first valid answer wins, is cached briefly and, for quotes, kept as
  the last-known value.
When every provider fails or has nothing, a quote falls back to its last-known value if it was
fetched at most 120 s ago (returned with `stale=True`); otherwise `MarketDataUnavailable`
(reason `market_data_unavailable`) is raised. Nothing else escapes: a provider bug is logged and
counted as a bad response.

Cache freshness and last-known age are measured on the service clock (`clock.now`), so a replay
on a simulated clock never reads an answer from another simulated moment. The only database
read is the simulated provider's price anchor (one indexed row); callers still fetch market data
before opening a transaction, never inside one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from optionsengine.lib import clock
from optionsengine.marketdata import validation
from optionsengine.marketdata.base import Provider
from optionsengine.marketdata.breaker import CLOSED, CircuitBreaker
from optionsengine.marketdata.errors import BadResponseError, MarketDataUnavailable, ProviderError
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

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Seconds an answer stays fresh (SPEC §5: quotes 30 s, chains 60 s).
QUOTE_TTL = 30
CHAIN_TTL = 60
CANDLES_TTL = 60
GEX_TTL = 300
FLOW_TTL = 60
IV_RANK_TTL = 300
LAST_KNOWN_MAX_AGE = 120
_LAST_KNOWN_KEEP = 600  # cache lifetime; the 120 s rule is applied on read
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF_SECONDS = 0.25


class MarketDataService:
    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        cache: Any,
        now: Callable[[], datetime] = clock.now,
        sleep: Callable[[float], None] = time.sleep,
        wall_time: Callable[[], float] = time.time,
        retries: int = DEFAULT_RETRIES,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
    ) -> None:
        self.providers = tuple(providers)
        self._cache = cache
        self._now = now
        self._sleep = sleep
        self._retries = retries
        self._backoff = backoff_seconds
        self._breakers = {p.name: CircuitBreaker(p.name, cache, wall_time=wall_time) for p in self.providers}

    # --- public API -----------------------------------------------------------------------

    def stock_quote(self, symbol: str) -> StockQuote:
        return self._with_last_known(
            f"stock quote {symbol}",
            f"quote:{symbol}",
            lambda p, now: p.stock_quote(symbol, now),
            validation.check_stock_quote,
        )

    def option_quote(self, contract: OptionContract) -> OptionQuote:
        return self._with_last_known(
            f"option quote {contract.occ_symbol}",
            f"option:{contract.occ_symbol}",
            lambda p, now: p.option_quote(contract, now),
            validation.check_option_quote,
        )

    def option_chain(self, symbol: str, expiration: date) -> OptionChain:
        return self._first_answer(
            f"option chain {symbol} {expiration.isoformat()}",
            f"chain:{symbol}:{expiration.isoformat()}",
            CHAIN_TTL,
            lambda p, now: p.option_chain(symbol, expiration, now),
            validation.check_chain,
        )

    def candles(self, symbol: str, timeframe: str, count: int = 200) -> CandleSeries:
        return self._first_answer(
            f"{timeframe} candles {symbol}",
            f"candles:{symbol}:{timeframe}:{count}",
            CANDLES_TTL,
            lambda p, now: p.candles(symbol, timeframe, count, now),
            validation.check_candles,
        )

    def gex(self, symbol: str) -> GexSnapshot:
        return self._first_answer(f"GEX {symbol}", f"gex:{symbol}", GEX_TTL, lambda p, now: p.gex(symbol, now))

    def flow(self, symbol: str) -> OptionsFlow:
        return self._first_answer(f"flow {symbol}", f"flow:{symbol}", FLOW_TTL, lambda p, now: p.flow(symbol, now))

    def iv_rank(self, symbol: str) -> IvRank:
        return self._first_answer(
            f"IV rank {symbol}", f"ivrank:{symbol}", IV_RANK_TTL, lambda p, now: p.iv_rank(symbol, now)
        )

    def health(self) -> dict[str, Any]:
        providers = [self._breakers[p.name].snapshot() for p in self.providers]
        usable = [p for p in providers if p["state"] != "open"]
        if all(p["state"] == CLOSED for p in providers):
            status = "ok"
        else:
            status = "degraded" if usable else "down"
        return {"status": status, "chain": [p.name for p in self.providers], "providers": providers}

    # --- the chain ------------------------------------------------------------------------

    def _cached(self, key: str, ttl: int, now: datetime) -> Any:
        entry = self._cache.get(f"marketdata:{key}")
        if entry is None:
            return None
        fetched_at, value = entry
        return value if 0 <= (now - fetched_at).total_seconds() <= ttl else None

    def _first_answer(
        self,
        what: str,
        key: str,
        ttl: int,
        fetch: Callable[[Provider, datetime], T],
        check: Callable[[T], None] | None = None,
        remember: bool = False,
    ) -> T:
        now = self._now()
        cached = self._cached(key, ttl, now)
        if cached is not None:
            return cached
        attempts: list[tuple[str, str, str]] = []
        for provider in self.providers:
            breaker = self._breakers[provider.name]
            if not breaker.allow():
                attempts.append((provider.name, "CircuitOpen", "breaker open, skipped"))
                continue
            try:
                result = self._call(provider, fetch, now)
                if check is not None:
                    check(result)
            except ProviderError as exc:
                attempts.append((provider.name, type(exc).__name__, str(exc)))
                if exc.counts_as_failure:
                    breaker.record_failure(exc)
                continue
            breaker.record_success()
            if provider.cacheable:
                self._cache.set(f"marketdata:{key}", (now, result), ttl)
            if remember:
                self._cache.set(f"marketdata:last:{key}", (now, result), _LAST_KNOWN_KEEP)
            return result
        raise MarketDataUnavailable(what, attempts)

    def _with_last_known(
        self,
        what: str,
        key: str,
        fetch: Callable[[Provider, datetime], T],
        check: Callable[[T], None],
    ) -> T:
        try:
            return self._first_answer(what, key, QUOTE_TTL, fetch, check, remember=True)
        except MarketDataUnavailable:
            entry = self._cache.get(f"marketdata:last:{key}")
            if entry is not None:
                fetched_at, quote = entry
                if 0 <= (self._now() - fetched_at).total_seconds() <= LAST_KNOWN_MAX_AGE:
                    return quote.as_stale()
            raise

    def _call(self, provider: Provider, fetch: Callable[[Provider, datetime], T], now: datetime) -> T:
        """One provider call with up to `retries` retries, on transient errors only."""
        attempt = 0
        while True:
            try:
                return fetch(provider, now)
            except ProviderError as exc:
                if not exc.retryable or attempt >= self._retries:
                    raise
            except Exception as exc:  # a provider bug must not take the pipeline down
                logger.exception("market data provider %s raised unexpectedly", provider.name)
                raise BadResponseError(f"{type(exc).__name__}: {exc}") from exc
            self._sleep(self._backoff * 2**attempt)
            attempt += 1
