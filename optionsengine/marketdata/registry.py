"""Builds the provider chain from settings (the only marketdata module that reads them).

One MarketDataService per process, built on first use; `reset_service()` drops it (tests, and
automatically when a MARKET_DATA_* or provider-key setting is overridden in tests).
Optional settings, read with defaults: MARKETDATA_BASE_URL, POLYGON_BASE_URL,
ALPACA_DATA_FEED ("iex"), ALPACA_OPTIONS_FEED ("indicative").
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed

from optionsengine.marketdata.anchors import DatabaseAnchors
from optionsengine.marketdata.base import Provider
from optionsengine.marketdata.service import MarketDataService

_service: MarketDataService | None = None
_lock = threading.Lock()
_RELEVANT_SETTINGS = ("MARKET_DATA_", "SIMULATED_MARKET_SEED", "ALPACA_", "TWELVEDATA_", "MARKETDATA_", "POLYGON_")


def _fixture_path() -> Path:
    path = Path(settings.MARKET_DATA_FIXTURE)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def build_provider(name: str) -> Provider:
    timeout = float(settings.MARKET_DATA_TIMEOUT_SECONDS)
    if name == "simulated":
        from optionsengine.marketdata.simulated.provider import SimulatedProvider

        return SimulatedProvider(seed=settings.SIMULATED_MARKET_SEED, anchors=DatabaseAnchors())
    if name == "fixture":
        from optionsengine.marketdata.providers.fixture import FixtureProvider

        return FixtureProvider(_fixture_path())
    if name == "alpaca":
        from optionsengine.marketdata.providers.alpaca import AlpacaProvider

        return AlpacaProvider(
            api_key=settings.ALPACA_API_KEY,
            secret_key=settings.ALPACA_SECRET_KEY,
            stock_feed=settings.ALPACA_DATA_FEED,
            option_feed=settings.ALPACA_OPTIONS_FEED,
            timeout=timeout,
        )
    if name == "twelvedata":
        from optionsengine.marketdata.providers.twelvedata import TwelveDataProvider

        return TwelveDataProvider(api_key=settings.TWELVEDATA_API_KEY, timeout=timeout)
    if name == "marketdata":
        from optionsengine.marketdata.providers.marketdata_app import MarketDataAppProvider

        return MarketDataAppProvider(
            api_key=settings.MARKETDATA_API_KEY, base_url=settings.MARKETDATA_BASE_URL, timeout=timeout
        )
    if name == "polygon":
        from optionsengine.marketdata.providers.polygon import PolygonProvider

        return PolygonProvider(
            api_key=settings.POLYGON_API_KEY, base_url=settings.POLYGON_BASE_URL, timeout=timeout
        )
    raise ValueError(f"unknown market data provider {name!r}")


def build_service() -> MarketDataService:
    return MarketDataService([build_provider(name) for name in settings.MARKET_DATA_PROVIDERS], cache=cache)


def get_service() -> MarketDataService:
    global _service
    if _service is None:
        with _lock:
            if _service is None:
                _service = build_service()
    return _service


def reset_service() -> None:
    global _service
    with _lock:
        _service = None


def _on_setting_changed(*, setting: str, **_: object) -> None:
    if setting.startswith(_RELEVANT_SETTINGS):
        reset_service()


setting_changed.connect(_on_setting_changed)
