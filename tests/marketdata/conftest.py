from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.cache.backends.locmem import LocMemCache

from optionsengine.marketdata.base import Provider
from optionsengine.marketdata.types import StockQuote

DATA = Path(__file__).parent / "data"
# Fri 2026-03-13 10:30 New York: regular hours, an expiry Friday.
MARKET_MOMENT = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)


@pytest.fixture
def cache() -> LocMemCache:
    """A private cache per test, standing in for the shared Django cache (Redis in production)."""
    return LocMemCache(f"marketdata-test-{uuid.uuid4().hex}", {})


class Clocks:
    """The service clock (market time) and the wall clock (breakers) moved by hand."""

    def __init__(self) -> None:
        self.market = MARKET_MOMENT
        self.wall = 1_000_000.0
        self.sleeps: list[float] = []

    def advance(self, seconds: float) -> None:
        self.market += timedelta(seconds=seconds)
        self.wall += seconds


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


def quote(symbol: str = "SPY", price: str = "600.00", provider: str = "fake", at: datetime = MARKET_MOMENT) -> StockQuote:
    value = Decimal(price)
    return StockQuote(symbol, value, value - Decimal("0.01"), value + Decimal("0.01"), value, at, provider)


class ScriptedProvider(Provider):
    """Answers stock quotes from a script: each entry is a value to return or an exception to
    raise; the last entry repeats. Records every call."""

    def __init__(self, name: str, *script: Any, cacheable: bool = True) -> None:
        self.name = name
        self.cacheable = cacheable
        self.script = list(script)
        self.calls = 0

    def stock_quote(self, symbol: str, now: datetime) -> StockQuote:
        self.calls += 1
        outcome = self.script[min(self.calls - 1, len(self.script) - 1)]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def mock_client(routes: dict[str, tuple[int, Any]], seen: list[httpx.Request] | None = None) -> httpx.Client:
    """An httpx client answering by URL path: {path: (status, body or exception)}.

    A body that is a str names a file under data/; bytes are sent raw; an exception is raised
    as the transport failure it stands for.
    """

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        status, body = routes[request.url.path]
        if isinstance(body, Exception):
            raise body
        if isinstance(body, bytes):
            return httpx.Response(status, content=body)
        return httpx.Response(status, json=load(body) if isinstance(body, str) else body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def sequence_client(files: list[str], seen: list[httpx.Request]) -> httpx.Client:
    """An httpx client answering successive requests with successive data/ files (pagination)."""
    pages = iter(files)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load(next(pages)))

    return httpx.Client(transport=httpx.MockTransport(handler))
