from __future__ import annotations

import pytest

from optionsengine.lib import clock
from optionsengine.pipeline import events
from tests.orders_app.builders import NOW, StubMarket


@pytest.fixture
def market(monkeypatch) -> StubMarket:
    """Replace the provider chain with a scripted market (both stages call marketdata.get_service())."""
    stub = StubMarket()
    monkeypatch.setattr("optionsengine.marketdata.get_service", lambda: stub)
    return stub


@pytest.fixture(autouse=True)
def _clock_and_events():
    events.reset_counts()
    with clock.override(NOW):
        yield
