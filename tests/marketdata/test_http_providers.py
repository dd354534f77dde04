"""Real providers against recorded, documented response shapes (httpx.MockTransport, no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.errors import (
    BadResponseError,
    EntitlementError,
    NoDataError,
    RateLimitedError,
    TransientError,
)
from optionsengine.marketdata.providers.alpaca import AlpacaProvider
from optionsengine.marketdata.providers.marketdata_app import MarketDataAppProvider
from optionsengine.marketdata.providers.polygon import PolygonProvider
from optionsengine.marketdata.providers.twelvedata import TwelveDataProvider
from optionsengine.marketdata.types import OptionContract

from .conftest import MARKET_MOMENT, load, mock_client, sequence_client

NOW = MARKET_MOMENT
EXPIRY = date(2026, 3, 20)
CALL_600 = OptionContract("SPY", EXPIRY, OptionRight.CALL, Decimal("600"))


def alpaca(routes, seen=None):
    return AlpacaProvider(api_key="key-id", secret_key="secret", client=mock_client(routes, seen))


def twelvedata(routes, seen=None):
    return TwelveDataProvider(api_key="td-key", client=mock_client(routes, seen))


def marketdata(routes, seen=None):
    return MarketDataAppProvider(api_key="md-token", client=mock_client(routes, seen))


def polygon(routes, seen=None):
    return PolygonProvider(api_key="pg-key", client=mock_client(routes, seen))


# --- Alpaca ------------------------------------------------------------------------------------


def test_alpaca_stock_quote_reads_bid_and_ask_with_key_headers():
    seen = []
    quote = alpaca({"/v2/stocks/SPY/quotes/latest": (200, "alpaca_stock_quote.json")}, seen).stock_quote("SPY", NOW)
    assert (quote.bid, quote.ask, quote.price) == (Decimal("601.2500"), Decimal("601.2700"), Decimal("601.2600"))
    assert quote.as_of == datetime(2026, 3, 13, 14, 29, 59, 123456, tzinfo=UTC)
    assert seen[0].headers["APCA-API-KEY-ID"] == "key-id"
    assert seen[0].headers["APCA-API-SECRET-KEY"] == "secret"
    assert seen[0].url.params["feed"] == "iex"


def test_alpaca_chain_follows_pages_and_reads_real_quotes_greeks_and_iv():
    seen = []
    client = sequence_client(["alpaca_option_snapshots_page1.json", "alpaca_option_snapshots_page2.json"], seen)
    provider = AlpacaProvider(api_key="key-id", secret_key="secret", client=client)
    chain = provider.option_chain("SPY", EXPIRY, NOW)
    assert seen[-1].url.params["page_token"] == "U1BZMjYwMzIwUDAwNjAwMDAw"
    assert seen[-1].url.params["expiration_date"] == "2026-03-20"
    # The 605 call had an empty book and no trade: dropped, not priced at zero.
    assert sorted(q.contract.option_symbol for q in chain.quotes) == [
        "SPY-20260320-C-600", "SPY-20260320-C-610", "SPY-20260320-P-600",
    ]
    call = chain.find(CALL_600)
    assert (call.bid, call.ask, call.mid, call.last) == (Decimal("9.0500"), Decimal("9.1200"), Decimal("9.0850"), Decimal("9.0800"))
    assert call.greeks.delta == Decimal("0.5612") and call.iv == Decimal("0.1583")
    assert call.volume == 12034 and call.open_interest is None
    put = chain.find(OptionContract("SPY", EXPIRY, OptionRight.PUT, Decimal("600.00")))
    assert put.greeks is None and put.mid == Decimal("6.3000")


def test_alpaca_option_quote_by_occ_symbol():
    seen = []
    body = {"snapshots": {"SPY260320C00600000": {"latestQuote": {"bp": 9.05, "ap": 9.12, "t": "2026-03-13T14:29:58Z"}}}}
    quote = alpaca({"/v1beta1/options/snapshots": (200, body)}, seen).option_quote(CALL_600, NOW)
    assert quote.mid == Decimal("9.0850")
    assert seen[0].url.params["symbols"] == "SPY260320C00600000"


def test_alpaca_bars_come_back_oldest_first():
    seen = []
    series = alpaca({"/v2/stocks/SPY/bars": (200, "alpaca_bars.json")}, seen).candles("SPY", "5m", 2, NOW)
    assert [c.start.minute for c in series.candles] == [20, 25]
    assert series.candles[-1].close == Decimal("601.2500")
    assert seen[0].url.params["timeframe"] == "5Min" and seen[0].url.params["sort"] == "desc"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, "alpaca_error_401.json", EntitlementError),
        (403, "alpaca_error_403.json", EntitlementError),
        (429, "alpaca_error_429.json", RateLimitedError),
        (404, {"message": "not found"}, NoDataError),
        (422, {"code": 42210000, "message": "invalid symbol"}, BadResponseError),
        (500, {"message": "internal server error"}, TransientError),
        (502, b"<html>Bad Gateway</html>", TransientError),
        (200, b"not json", BadResponseError),
    ],
)
def test_alpaca_errors_are_classified_from_status(status, body, error):
    with pytest.raises(error):
        alpaca({"/v2/stocks/SPY/quotes/latest": (status, body)}).stock_quote("SPY", NOW)


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.RemoteProtocolError("eof")])
def test_transport_failures_are_transient(failure):
    with pytest.raises(TransientError):
        alpaca({"/v2/stocks/SPY/quotes/latest": (0, failure)}).stock_quote("SPY", NOW)


def test_an_error_message_holding_a_strike_is_not_read_as_a_status():
    # The old classifier took "512" in a message for HTTP 512 and retried; a 404 is a 404.
    with pytest.raises(NoDataError) as caught:
        alpaca({"/v1beta1/options/snapshots": (404, {"message": "No option snapshot for QQQ 512 2026-03-20"})}).option_quote(
            OptionContract("QQQ", EXPIRY, OptionRight.CALL, Decimal("512")), NOW
        )
    assert caught.value.status == 404


# --- TwelveData --------------------------------------------------------------------------------


def test_twelvedata_quote_reads_close_not_price():
    seen = []
    quote = twelvedata({"/quote": (200, "twelvedata_quote.json")}, seen).stock_quote("SPY", NOW)
    assert quote.price == Decimal("601.2300") and quote.bid is None
    assert quote.as_of == datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
    assert seen[0].url.params["apikey"] == "td-key"


def test_twelvedata_time_series_is_reversed_and_read_in_utc():
    seen = []
    series = twelvedata({"/time_series": (200, "twelvedata_time_series.json")}, seen).candles("SPY", "5m", 2, NOW)
    assert [c.start for c in series.candles] == [
        datetime(2026, 3, 13, 14, 20, tzinfo=UTC), datetime(2026, 3, 13, 14, 25, tzinfo=UTC)
    ]
    assert seen[0].url.params["interval"] == "5min" and seen[0].url.params["timezone"] == "UTC"


def test_twelvedata_daily_bars_start_at_the_session_open():
    series = twelvedata({"/time_series": (200, "twelvedata_time_series_daily.json")}).candles("SPY", "1d", 2, NOW)
    assert series.candles[-1].start == datetime(2026, 3, 13, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, "twelvedata_error_401.json", EntitlementError),  # errors arrive with HTTP 200
        (200, "twelvedata_error_429.json", RateLimitedError),
        (200, "twelvedata_error_404.json", NoDataError),
        (200, "twelvedata_error_500.json", TransientError),
        (429, "twelvedata_error_429.json", RateLimitedError),
        (200, {"status": "error", "message": "no code"}, BadResponseError),
    ],
)
def test_twelvedata_errors_are_classified_from_the_body_code(status, body, error):
    with pytest.raises(error):
        twelvedata({"/quote": (status, body)}).stock_quote("SPY", NOW)


def test_twelvedata_serves_no_options():
    with pytest.raises(NoDataError):
        twelvedata({}).option_chain("SPY", EXPIRY, NOW)


# --- MarketData.app ----------------------------------------------------------------------------


def test_marketdata_stock_quote_with_bearer_token():
    seen = []
    quote = marketdata({"/v1/stocks/quotes/SPY/": (200, "marketdata_stock_quote.json")}, seen).stock_quote("SPY", NOW)
    assert (quote.bid, quote.ask, quote.price) == (Decimal("601.2500"), Decimal("601.2700"), Decimal("601.2600"))
    assert seen[0].headers["Authorization"] == "Bearer md-token"


def test_marketdata_chain_is_filtered_by_expiry_and_reads_bid_ask_greeks_and_oi():
    seen = []
    chain = marketdata({"/v1/options/chain/SPY/": (203, "marketdata_chain.json")}, seen).option_chain("SPY", EXPIRY, NOW)
    assert seen[0].url.params["expiration"] == "2026-03-20"
    assert chain.underlying_price == Decimal("601.2600")
    call = chain.find(CALL_600)
    assert (call.bid, call.ask, call.open_interest, call.volume) == (Decimal("9.0500"), Decimal("9.1200"), 45012, 12034)
    assert call.greeks.theta == Decimal("-0.3811") and call.iv == Decimal("0.1583")
    half_strike = chain.find(OptionContract("SPY", EXPIRY, OptionRight.CALL, Decimal("601.5")))
    assert half_strike.last is None and half_strike.mid == Decimal("8.2500")


def test_marketdata_option_quote_by_occ_symbol():
    first_row = {key: value[:1] if isinstance(value, list) else value for key, value in load("marketdata_chain.json").items()}
    quote = marketdata({"/v1/options/quotes/SPY260320C00600000/": (200, first_row)}).option_quote(CALL_600, NOW)
    assert quote.mid == Decimal("9.0850")


def test_marketdata_candles_use_countback():
    seen = []
    series = marketdata({"/v1/stocks/candles/5/SPY/": (200, "marketdata_candles.json")}, seen).candles("SPY", "5m", 2, NOW)
    assert len(series.candles) == 2 and seen[0].url.params["countback"] == "2"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, "marketdata_no_data.json", NoDataError),
        (200, "marketdata_no_data.json", NoDataError),
        (401, "marketdata_error_401.json", EntitlementError),
        (429, {"s": "error", "errmsg": "Rate limit exceeded."}, RateLimitedError),
        (500, "marketdata_error_500.json", TransientError),
        (400, {"s": "error", "errmsg": "Invalid expiration."}, BadResponseError),
    ],
)
def test_marketdata_errors(status, body, error):
    with pytest.raises(error):
        marketdata({"/v1/options/chain/SPY/": (status, body)}).option_chain("SPY", EXPIRY, NOW)


# --- Polygon / Massive -------------------------------------------------------------------------


def test_polygon_stock_snapshot_uses_the_quote_mid_with_api_key_param():
    seen = []
    quote = polygon({"/v2/snapshot/locale/us/markets/stocks/tickers/SPY": (200, "polygon_stock_snapshot.json")}, seen).stock_quote("SPY", NOW)
    assert (quote.bid, quote.ask, quote.price, quote.last) == (
        Decimal("601.2500"), Decimal("601.2700"), Decimal("601.2600"), Decimal("601.2600")
    )
    assert seen[0].url.params["apiKey"] == "pg-key"


def test_polygon_premarket_snapshot_with_zero_day_close_falls_back_to_the_last_trade():
    snapshot = {"/v2/snapshot/locale/us/markets/stocks/tickers/SPY": (200, "polygon_premarket_snapshot.json")}
    assert polygon(snapshot).stock_quote("SPY", NOW).price == Decimal("599.9000")


def test_polygon_chain_follows_next_url_keeping_the_key_and_reads_quotes():
    seen = []
    client = sequence_client(["polygon_chain_page1.json", "polygon_chain_page2.json"], seen)
    provider = PolygonProvider(api_key="pg-key", client=client)
    chain = provider.option_chain("SPY", EXPIRY, NOW)
    assert seen[1].url.params["cursor"] == "YWN0aXZlPXRydWUmZGF0ZT0yMDI2"
    assert seen[1].url.params["apiKey"] == "pg-key"
    assert len(chain.quotes) == 2  # the unquoted 700 call is dropped
    call = chain.find(CALL_600)
    assert (call.bid, call.ask, call.open_interest) == (Decimal("9.0500"), Decimal("9.1200"), 45012)
    assert call.greeks.gamma == Decimal("0.0291") and chain.underlying_price == Decimal("601.2600")


def test_polygon_option_contract_snapshot():
    routes = {"/v3/snapshot/options/SPY/O:SPY260320C00600000": (200, "polygon_option_contract.json")}
    assert polygon(routes).option_quote(CALL_600, NOW).mid == Decimal("9.0850")


def test_polygon_aggregates_span_from_lookback_to_now_in_milliseconds():
    seen = []
    provider = PolygonProvider(api_key="pg-key", client=sequence_client(["polygon_aggs.json"], seen))
    series = provider.candles("SPY", "5m", 2, NOW)
    assert seen[0].url.path.startswith("/v2/aggs/ticker/SPY/range/5/minute/")
    assert seen[0].url.path.endswith(f"/{int(NOW.timestamp() * 1000)}")
    assert [c.close for c in series.candles] == [Decimal("601.1000"), Decimal("601.2500")]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, "polygon_not_authorized.json", EntitlementError),
        (401, "polygon_error_401.json", EntitlementError),
        (429, "polygon_error_429.json", RateLimitedError),
        (200, "polygon_empty_chain.json", NoDataError),
        (503, {"status": "ERROR", "error": "service unavailable"}, TransientError),
    ],
)
def test_polygon_errors(status, body, error):
    with pytest.raises(error):
        polygon({"/v3/snapshot/options/SPY": (status, body)}).option_chain("SPY", EXPIRY, NOW)
