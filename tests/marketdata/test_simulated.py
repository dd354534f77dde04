"""The simulated market: deterministic, realistic, anchorable, and on the service clock."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from optionsengine.lib import clock
from optionsengine.lib.option_contracts import OptionRight
from optionsengine.marketdata.anchors import Anchor, StaticAnchors
from optionsengine.marketdata.candles import aggregate
from optionsengine.marketdata.errors import NoDataError
from optionsengine.marketdata.service import MarketDataService
from optionsengine.marketdata.simulated.path import LogPath, symbol_key
from optionsengine.marketdata.simulated.profiles import KNOWN_PROFILES, profile_for
from optionsengine.marketdata.simulated.provider import SimulatedProvider
from optionsengine.marketdata.types import DealerPosition, OptionContract

from .conftest import MARKET_MOMENT

NOW = MARKET_MOMENT  # Fri 2026-03-13 10:30 New York
NEXT_WEEK = date(2026, 3, 20)


def simulated(seed: int = 7, anchors: StaticAnchors | None = None) -> SimulatedProvider:
    return SimulatedProvider(seed=seed, anchors=anchors or StaticAnchors())


def test_same_seed_symbol_and_time_give_the_same_market_in_every_process():
    first, second = simulated(), simulated()
    assert first.stock_quote("SPY", NOW) == second.stock_quote("SPY", NOW)
    assert first.option_chain("SPY", NEXT_WEEK, NOW) == second.option_chain("SPY", NEXT_WEEK, NOW)
    assert first.candles("SPY", "5m", 50, NOW) == second.candles("SPY", "5m", 50, NOW)


def test_different_seeds_and_times_give_different_prices():
    assert simulated(7).stock_quote("SPY", NOW).price != simulated(8).stock_quote("SPY", NOW).price
    provider = simulated()
    assert provider.stock_quote("SPY", NOW).price != provider.stock_quote("SPY", NOW + timedelta(minutes=5)).price


@pytest.mark.parametrize("symbol", sorted(KNOWN_PROFILES))
def test_known_symbols_trade_near_their_reference_price_across_a_year(symbol):
    provider = simulated()
    reference = float(KNOWN_PROFILES[symbol].reference_price)
    vol = KNOWN_PROFILES[symbol].volatility
    for week in range(0, 52, 4):
        price = float(provider.stock_quote(symbol, NOW + timedelta(weeks=week)).price)
        # The path is stationary: about ±1 σ·√(half a year), never a random walk to anywhere.
        assert abs(math.log(price / reference)) < 4 * vol * math.sqrt(0.5), (symbol, week, price)


def test_unknown_symbols_get_a_stable_plausible_profile():
    profile = profile_for("ZZZQ")
    assert profile == profile_for("ZZZQ")
    assert Decimal(20) <= profile.reference_price <= Decimal(320)
    assert profile.volatility == 0.40
    assert simulated().stock_quote("ZZZQ", NOW).price > 0


def test_realised_volatility_matches_the_profile():
    path = LogPath(symbol_key(7, "SPY"), 0.20)
    closes = [path.at(day * 420 + 410) for day in range(20000, 20750)]
    daily = statistics.pstdev(b - a for a, b in zip(closes, closes[1:], strict=False)) * math.sqrt(252)
    minutes = [path.at(20000 * 420 + 20 + i) for i in range(390 * 20)]
    intraday = statistics.pstdev(b - a for a, b in zip(minutes, minutes[1:], strict=False)) * math.sqrt(252 * 390)
    assert 0.15 < daily < 0.25
    assert 0.16 < intraday < 0.25


def test_anchoring_makes_the_path_pass_through_the_observed_price():
    anchors = StaticAnchors()
    provider = simulated(anchors=anchors)
    before = provider.spot("SPY", NOW)
    anchors.set(Anchor("SPY", Decimal("650.00"), NOW))
    assert provider.spot("SPY", NOW) == pytest.approx(650.0)
    assert provider.stock_quote("SPY", NOW).price == Decimal("650.0000")
    # The path keeps its shape: relative moves after the anchor are unchanged.
    later = NOW + timedelta(minutes=30)
    unanchored = simulated()
    assert provider.spot("SPY", later) / 650.0 == pytest.approx(unanchored.spot("SPY", later) / before)
    chain = provider.option_chain("SPY", NEXT_WEEK, NOW)
    assert chain.underlying_price == Decimal("650.0000")


def test_time_comes_from_the_service_clock(cache):
    service = MarketDataService([simulated()], cache=cache)
    with clock.override(NOW):
        first = service.stock_quote("SPY")
    with clock.override(NOW + timedelta(hours=1)):
        later = service.stock_quote("SPY")
    with clock.override(NOW):
        again = service.stock_quote("SPY")
    assert first.as_of == NOW and later.as_of == NOW + timedelta(hours=1)
    assert first == again and first.price != later.price


def test_one_minute_candles_aggregate_into_every_timeframe():
    provider = simulated()
    minutes = provider.candles("SPY", "1m", 60, NOW).candles
    assert len(minutes) == 60 and minutes[-1].start == NOW - timedelta(minutes=1)
    for timeframe, size in (("5m", 5), ("15m", 15), ("30m", 30)):
        bars = provider.candles("SPY", timeframe, 60 // size, NOW).candles
        assert list(bars) == aggregate(minutes, timeframe)
    for bar in minutes:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high and bar.volume > 0
    # Consecutive minutes join: each open is the previous close (the path is continuous).
    assert all(b.open == a.close for a, b in zip(minutes, minutes[1:], strict=False))


def test_daily_and_hourly_bars_follow_the_calendar():
    provider = simulated()
    daily = provider.candles("SPY", "1d", 20, NOW).candles
    assert len(daily) == 20
    assert date(2026, 2, 16) not in {bar.start.date() for bar in daily}  # Presidents' Day
    assert daily[-1].start == datetime(2026, 3, 13, 13, 30, tzinfo=UTC)  # today's open, EDT
    hourly = provider.candles("SPY", "1h", 7, datetime(2026, 3, 12, 21, 0, tzinfo=UTC)).candles
    assert [bar.start.astimezone(clock.MARKET_TZ).strftime("%H:%M") for bar in hourly] == [
        "09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"
    ]
    thanksgiving_friday = provider.candles("SPY", "1d", 1, datetime(2026, 11, 27, 22, 0, tzinfo=UTC)).candles[0]
    assert thanksgiving_friday.volume < daily[-2].volume  # a 13:00 close trades 210 minutes


def test_asking_for_no_candles_is_answered_with_no_data():
    with pytest.raises(NoDataError):
        simulated().candles("SPY", "1m", 0, NOW)


def test_chain_lists_strikes_at_the_increment_with_sane_quotes():
    chain = simulated().option_chain("AAPL", NEXT_WEEK, NOW)
    strikes = chain.strikes(OptionRight.CALL)
    assert all(strike % Decimal("2.5") == 0 for strike in strikes)
    assert strikes == chain.strikes(OptionRight.PUT)
    spot = chain.underlying_price
    assert strikes[0] < spot < strikes[-1]
    for quote in chain.quotes:
        assert Decimal(0) <= quote.bid < quote.ask and quote.bid <= quote.mid <= quote.ask
        assert quote.greeks is not None and quote.iv > 0 and quote.open_interest >= 0
    calls = [chain.find(OptionContract("AAPL", NEXT_WEEK, OptionRight.CALL, k)) for k in strikes]
    assert [c.greeks.delta for c in calls] == sorted((c.greeks.delta for c in calls), reverse=True)


def test_smile_and_spreads_widen_away_from_the_money():
    chain = simulated().option_chain("SPY", NEXT_WEEK, NOW)
    spot = chain.underlying_price
    puts = {q.contract.strike: q for q in chain.quotes if q.contract.right is OptionRight.PUT}
    atm = min(puts, key=lambda k: abs(k - spot))
    far_otm = min(puts)
    assert puts[far_otm].iv > puts[atm].iv  # equity skew: downside puts are richer
    calls = {q.contract.strike: q for q in chain.quotes if q.contract.right is OptionRight.CALL}
    atm_call, far_call = calls[atm], calls[max(calls)]
    assert (far_call.ask - far_call.bid) / far_call.mid > (atm_call.ask - atm_call.bid) / atm_call.mid


def test_put_call_parity_holds_on_simulated_mids_within_the_spread():
    chain = simulated().option_chain("SPY", NEXT_WEEK, NOW)
    spot = chain.underlying_price
    for strike in chain.strikes(OptionRight.CALL):
        call = chain.find(OptionContract("SPY", NEXT_WEEK, OptionRight.CALL, strike))
        put = chain.find(OptionContract("SPY", NEXT_WEEK, OptionRight.PUT, strike))
        years = 7.23 / 365
        carry = spot - strike * Decimal(str(math.exp(-0.04 * years)))
        slack = (call.ask - call.bid) + (put.ask - put.bid)
        assert abs((call.mid - put.mid) - carry) <= slack


def test_good_friday_week_lists_the_thursday_and_unlisted_or_expired_expiries_have_no_data():
    provider = simulated()
    assert provider.option_chain("SPY", date(2026, 4, 2), NOW).quotes
    with pytest.raises(NoDataError):
        provider.option_chain("SPY", date(2026, 4, 3), NOW)  # the holiday itself
    with pytest.raises(NoDataError):
        provider.option_chain("SPY", date(2026, 3, 18), NOW)  # a Wednesday
    with pytest.raises(NoDataError):
        provider.option_chain("SPY", date(2026, 3, 13), NOW.replace(hour=20, minute=1))  # after 16:00 NY


def test_option_quote_comes_from_the_chain():
    provider = simulated()
    contract = OptionContract("SPY", NEXT_WEEK, OptionRight.PUT, Decimal("600.00"))
    chain = provider.option_chain("SPY", NEXT_WEEK, NOW)
    assert provider.option_quote(contract, NOW) == chain.find(contract)
    with pytest.raises(NoDataError):
        provider.option_quote(OptionContract("SPY", NEXT_WEEK, OptionRight.PUT, Decimal("600.25")), NOW)


def test_gex_flow_and_iv_rank_are_synthesised():
    provider = simulated()
    gex = provider.gex("SPY", NOW)
    assert gex.call_gex > 0 > gex.put_gex
    assert gex.net_gex == gex.call_gex + gex.put_gex
    assert isinstance(gex.dealer_position, DealerPosition)
    flow = provider.flow("SPY", NOW)
    assert 0 < len(flow.entries) <= 20
    assert all(NOW - timedelta(hours=1) <= e.at <= NOW and e.premium == e.price * e.size * 100 for e in flow.entries)
    assert simulated().flow("SPY", NOW) == flow
    rank = provider.iv_rank("SPY", NOW)
    assert Decimal(0) <= rank.iv_rank <= Decimal(100) and rank.iv > 0
