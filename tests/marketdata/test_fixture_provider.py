"""The fixture provider: recorded inputs in, the same answers out; missing items are no data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.errors import NoDataError
from optionsengine.marketdata.providers.fixture import FixtureError, FixtureProvider
from optionsengine.marketdata.types import DealerPosition, OptionContract

from .conftest import DATA, MARKET_MOMENT

NOW = MARKET_MOMENT + timedelta(minutes=5)
EXPIRY = date(2026, 3, 20)


@pytest.fixture(scope="module")
def fixture() -> FixtureProvider:
    return FixtureProvider(DATA / "fixture_market.json")


def test_quote_with_explicit_price_and_file_timestamp(fixture):
    quote = fixture.stock_quote("SPY", NOW)
    assert (quote.price, quote.bid, quote.ask) == (Decimal("601.2600"), Decimal("601.2500"), Decimal("601.2700"))
    assert quote.as_of == MARKET_MOMENT and quote.provider == "fixture"


def test_quote_price_defaults_to_the_mid_and_symbols_are_upper_cased(fixture):
    assert fixture.stock_quote("QQQ", NOW).price == Decimal("520.1200")


def test_chain_and_option_quote(fixture):
    chain = fixture.option_chain("SPY", EXPIRY, NOW)
    assert chain.underlying_price == Decimal("601.2600") and len(chain.quotes) == 3
    call = fixture.option_quote(OptionContract("SPY", EXPIRY, OptionRight.CALL, Decimal("600.00")), NOW)
    assert (call.mid, call.open_interest, call.greeks.delta) == (Decimal("9.0850"), 45012, Decimal("0.5612"))
    last_only = chain.find(OptionContract("SPY", EXPIRY, OptionRight.CALL, Decimal("601.5")))
    assert last_only.mid == Decimal("8.2500") and last_only.greeks is None


def test_candles_stored_or_aggregated_from_one_minute_and_never_from_the_future(fixture):
    five = fixture.candles("SPY", "5m", 10, NOW).candles
    assert [(c.start.minute, c.open, c.high, c.low, c.close, c.volume) for c in five] == [
        (25, Decimal("601.0000"), Decimal("601.4000"), Decimal("600.9000"), Decimal("601.2600"), 6200),
        (30, Decimal("601.2600"), Decimal("601.5000"), Decimal("601.2000"), Decimal("601.4500"), 1800),
    ]
    assert len(fixture.candles("SPY", "1m", 10, MARKET_MOMENT - timedelta(minutes=3)).candles) == 3
    assert fixture.candles("SPY", "1d", 5, NOW).candles[0].close == Decimal("598.1000")


def test_gex_flow_and_iv_rank(fixture):
    gex = fixture.gex("SPY", NOW)
    assert gex.dealer_position is DealerPosition.LONG_GAMMA and gex.zero_gamma_level == Decimal("594.5000")
    flow = fixture.flow("SPY", NOW)
    assert [e.premium for e in flow.entries] == [Decimal("45600.00"), Decimal("12660.00")]
    assert flow.net_premium == Decimal("45600.00") - Decimal("12660.00")
    assert fixture.iv_rank("SPY", NOW).iv_rank == Decimal("42.5")
    assert fixture.iv_rank("QQQ", NOW).iv_rank == Decimal("0")  # zero is data, not "missing"


@pytest.mark.parametrize(
    "request_missing",
    [
        lambda f: f.stock_quote("IWM", NOW),
        lambda f: f.option_chain("SPY", date(2026, 3, 27), NOW),
        lambda f: f.option_chain("QQQ", EXPIRY, NOW),
        lambda f: f.candles("QQQ", "5m", 10, NOW),
        lambda f: f.candles("SPY", "5m", 10, datetime(2026, 3, 13, 14, 0, tzinfo=UTC)),
        lambda f: f.gex("QQQ", NOW),
        lambda f: f.flow("QQQ", NOW),
        lambda f: f.iv_rank("IWM", NOW),
    ],
)
def test_missing_items_behave_like_a_provider_with_no_data(fixture, request_missing):
    with pytest.raises(NoDataError):
        request_missing(fixture)


def test_a_malformed_file_fails_loudly_naming_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"symbols": {"SPY": {"chains": {"2026-03-20": {"contracts": [{"right": "sideways", "strike": "1"}]}}}}}')
    with pytest.raises(FixtureError, match="bad.json"):
        FixtureProvider(bad)
    with pytest.raises(FixtureError):
        FixtureProvider(tmp_path / "absent.json")
