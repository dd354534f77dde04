"""Wiring from settings, anchors in the database, /health data and `manage.py quote`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from optionsengine import marketdata
from optionsengine.lib import clock
from optionsengine.marketdata.anchors import DatabaseAnchors
from optionsengine.marketdata.providers.fixture import FixtureProvider
from optionsengine.marketdata.providers.polygon import PolygonProvider
from optionsengine.marketdata.providers.twelvedata import TwelveDataProvider
from optionsengine.marketdata.simulated.provider import SimulatedProvider
from optionsengine.models import PriceAnchor

from .conftest import DATA, MARKET_MOMENT


@pytest.fixture(autouse=True)
def fresh_service():
    from optionsengine.marketdata.registry import reset_service

    reset_service()
    yield
    reset_service()


def test_the_default_chain_is_the_simulated_market():
    service = marketdata.get_service()
    assert [type(p) for p in service.providers] == [SimulatedProvider]
    assert marketdata.get_service() is service


def test_the_chain_follows_market_data_providers_in_order(settings):
    settings.MARKET_DATA_PROVIDERS = ["twelvedata", "polygon", "fixture"]
    settings.TWELVEDATA_API_KEY = "td"
    settings.POLYGON_API_KEY = "pg"
    settings.MARKET_DATA_FIXTURE = str(DATA / "fixture_market.json")
    assert [type(p) for p in marketdata.get_service().providers] == [TwelveDataProvider, PolygonProvider, FixtureProvider]


def test_health_status_lists_the_providers_and_their_breakers():
    health = marketdata.health_status()
    assert health["status"] == "ok"
    assert health["providers"][0] == {
        "name": "simulated", "state": "closed", "consecutive_failures": 0, "open_until": None, "last_error": None,
    }


@pytest.mark.django_db
def test_an_observed_price_re_anchors_the_simulated_market_for_every_process():
    assert marketdata.record_observed_price("SPY", Decimal("640.12"), MARKET_MOMENT)
    assert PriceAnchor.objects.get(symbol="SPY").price == Decimal("640.1200")
    # A second process: its own provider instance, reading the same table.
    other = SimulatedProvider(seed=7, anchors=DatabaseAnchors())
    assert other.stock_quote("SPY", MARKET_MOMENT).price == Decimal("640.1200")
    with clock.override(MARKET_MOMENT):
        assert marketdata.get_service().stock_quote("SPY").price == Decimal("640.1200")
    assert marketdata.record_observed_price("SPY", Decimal("641.00"), MARKET_MOMENT)
    assert PriceAnchor.objects.count() == 1


@pytest.mark.django_db
def test_implausible_or_real_market_prices_are_not_anchored(settings):
    assert not marketdata.record_observed_price("SPY", Decimal("6.01"), MARKET_MOMENT)
    settings.MARKET_DATA_PROVIDERS = ["fixture"]
    settings.MARKET_DATA_FIXTURE = str(DATA / "fixture_market.json")
    assert not marketdata.record_observed_price("SPY", Decimal("601"), MARKET_MOMENT)
    assert not PriceAnchor.objects.exists()


@pytest.mark.django_db
def test_quote_command_prints_the_quote_chain_and_provider():
    out = StringIO()
    with clock.override(MARKET_MOMENT):
        call_command("quote", "spy", "--chain", "--expiry", "2026-03-20", "--strikes", "2", stdout=out)
    text = out.getvalue()
    assert "provider simulated" in text and "chain SPY 2026-03-20" in text
    assert "session RTH" in text
    assert len([line for line in text.splitlines() if " | " in line]) == 5  # header + 4 strikes


@pytest.mark.django_db
def test_quote_command_picks_the_next_live_expiry_after_the_close():
    out = StringIO()
    with clock.override(MARKET_MOMENT.replace(hour=20, minute=30)):  # Friday 16:30 New York
        call_command("quote", "SPY", "--chain", stdout=out)
    assert "chain SPY 2026-03-20" in out.getvalue()


@pytest.mark.django_db
def test_quote_command_reports_market_data_unavailable(settings):
    settings.MARKET_DATA_PROVIDERS = ["fixture"]
    settings.MARKET_DATA_FIXTURE = str(DATA / "fixture_market.json")
    with pytest.raises(CommandError, match="market_data_unavailable"):
        call_command("quote", "IWM", stdout=StringIO())
    out = StringIO()
    call_command("quote", "SPY", "--chain", "--expiry", date(2026, 3, 20).isoformat(), stdout=out)
    assert "provider fixture" in out.getvalue()
