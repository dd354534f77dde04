from __future__ import annotations

import pytest
from django.core.cache import cache

from bias_app.cache import config_key, state_key
from optionsengine.lib import clock
from tests.bias_app.builders import NOW

TEST_SYMBOLS = ("SPY", "QQQ", "AAPL", "IWM", "TSLA")
CONFIG_KEYS = ("gating", "staleness", "risk", "adaptive")

CACHE_BACKENDS = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bias-tests"},
    # Redis stopped: nothing listens on port 1; django-redis is told to degrade to misses, as in settings.
    "redis_stopped": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    },
    # A backend that raises on every call, whatever its settings say.
    "raising": {"BACKEND": "tests.bias_app.raising_cache.RaisingCache"},
}


def _forget_bias_keys() -> None:
    """Delete only this suite's keys: a shared Redis may hold other suites' data (no flushdb)."""
    keys = [state_key(s) for s in TEST_SYMBOLS] + [config_key(k) for k in CONFIG_KEYS]
    try:
        cache.delete_many(keys)
    except Exception:
        pass


@pytest.fixture(autouse=True)
def _isolated_bias_cache():
    _forget_bias_keys()
    yield
    _forget_bias_keys()


@pytest.fixture
def now():
    with clock.override(NOW):
        yield NOW


@pytest.fixture(params=sorted(CACHE_BACKENDS))
def any_cache(request, settings):
    """Run a test once per cache situation: working local cache, Redis stopped, cache raising."""
    settings.CACHES = {"default": CACHE_BACKENDS[request.param]}
    yield request.param


@pytest.fixture
def shared_state_cache(settings):
    """Behave as if a cache shared by every process (Redis) were configured: states are cached."""
    settings.REDIS_URL = settings.REDIS_URL or "redis://shared-cache-for-this-test"
