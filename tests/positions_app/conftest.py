from __future__ import annotations

import pytest
from django.core.cache import cache

from bias_app.cache import config_key
from optionsengine.lib import clock
from optionsengine.pipeline import position_inputs
from tests.positions_app.builders import NOW, StubMarket


@pytest.fixture
def market(monkeypatch) -> StubMarket:
    """Replace the provider chain with a table of option quotes."""
    stub = StubMarket()
    monkeypatch.setattr(position_inputs.marketdata, "get_service", lambda: stub)
    return stub


@pytest.fixture
def now():
    with clock.override(NOW):
        yield NOW


@pytest.fixture(autouse=True)
def _fresh_config_cache():
    """Cached bias config (e.g. a tuned macroDriftThreshold) must not leak between tests."""
    for key in ("adaptive", "risk", "staleness"):
        cache.delete(config_key(key))
    yield
    for key in ("adaptive", "risk", "staleness"):
        cache.delete(config_key(key))
