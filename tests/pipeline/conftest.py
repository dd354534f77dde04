"""Pipeline tests start from an empty cache: bias states, config and market-data answers cached by
an earlier test (in a shared Redis) must not leak into the next one's decisions."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from optionsengine.marketdata.registry import reset_service


def _forget_cached_state() -> None:
    if hasattr(cache, "delete_pattern"):  # django-redis: delete only our keys, never flush a shared db
        for pattern in ("*bias*", "*marketdata*"):
            cache.delete_pattern(pattern)
    else:
        cache.clear()
    reset_service()  # the simulated provider memoizes answers per process


@pytest.fixture(autouse=True)
def _isolated_cache():
    _forget_cached_state()
    yield
    _forget_cached_state()
