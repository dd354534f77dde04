"""The provider chain: fallback order, retries, breaker, sanity bounds, caches, last-known."""

from __future__ import annotations

from decimal import Decimal

import pytest

from optionsengine.marketdata.breaker import ENTITLEMENT_OPEN_SECONDS, OPEN_SECONDS, CircuitBreaker
from optionsengine.marketdata.errors import (
    BadResponseError,
    EntitlementError,
    MarketDataUnavailable,
    NoDataError,
    RateLimitedError,
    TransientError,
)
from optionsengine.marketdata.service import LAST_KNOWN_MAX_AGE, QUOTE_TTL, MarketDataService

from .conftest import ScriptedProvider, quote


@pytest.fixture
def make_service(cache, clocks):
    def make(*providers, retries=2):
        return MarketDataService(
            providers,
            cache=cache,
            now=lambda: clocks.market,
            sleep=clocks.sleeps.append,
            wall_time=lambda: clocks.wall,
            retries=retries,
        )

    return make


def test_first_provider_answers_and_is_named(make_service):
    first, second = ScriptedProvider("a", quote(provider="a")), ScriptedProvider("b", quote(provider="b"))
    result = make_service(first, second).stock_quote("SPY")
    assert (result.provider, result.price, result.stale) == ("a", Decimal("600.00"), False)
    assert second.calls == 0


def test_fallback_follows_the_configured_order(make_service):
    providers = [
        ScriptedProvider("a", NoDataError("nothing")),
        ScriptedProvider("b", BadResponseError("garbled")),
        ScriptedProvider("c", quote(provider="c")),
        ScriptedProvider("d", quote(provider="d")),
    ]
    assert make_service(*providers).stock_quote("SPY").provider == "c"
    assert [p.calls for p in providers] == [1, 1, 1, 0]


def test_transient_errors_are_retried_with_backoff_then_the_next_provider_answers(make_service, clocks):
    flaky = ScriptedProvider("flaky", TransientError("503", status=503))
    backup = ScriptedProvider("backup", quote(provider="backup"))
    assert make_service(flaky, backup).stock_quote("SPY").provider == "backup"
    assert flaky.calls == 3  # one call and two retries
    assert clocks.sleeps == [0.25, 0.5]


def test_a_transient_error_that_clears_on_retry_is_an_answer(make_service):
    flaky = ScriptedProvider("flaky", TransientError("timeout"), quote(provider="flaky"))
    assert make_service(flaky).stock_quote("SPY").provider == "flaky"
    assert flaky.calls == 2


@pytest.mark.parametrize(
    "error",
    [RateLimitedError("429", status=429), EntitlementError("403", status=403), BadResponseError("400"), NoDataError("404")],
)
def test_non_transient_errors_are_never_retried(make_service, clocks, error):
    provider = ScriptedProvider("p", error)
    with pytest.raises(MarketDataUnavailable):
        make_service(provider).stock_quote("SPY")
    assert provider.calls == 1
    assert clocks.sleeps == []


def test_all_down_is_a_clear_market_data_unavailable_outcome(make_service):
    service = make_service(ScriptedProvider("a", TransientError("down")), ScriptedProvider("b", NoDataError("none")))
    with pytest.raises(MarketDataUnavailable) as caught:
        service.stock_quote("SPY")
    assert caught.value.reason == "market_data_unavailable"
    assert [(name, kind) for name, kind, _ in caught.value.attempts] == [("a", "TransientError"), ("b", "NoDataError")]
    assert str(caught.value).startswith("market_data_unavailable: stock quote SPY")


def test_a_provider_bug_becomes_a_bad_response_not_an_unhandled_exception(make_service):
    buggy = ScriptedProvider("buggy", KeyError("bid"))
    with pytest.raises(MarketDataUnavailable) as caught:
        make_service(buggy).stock_quote("SPY")
    assert caught.value.attempts[0][1] == "BadResponseError"


@pytest.mark.parametrize("bad_price", ["5.00", "0", "-1", "950.00"])
def test_prices_outside_sanity_bounds_move_on_without_counting_a_failure(make_service, cache, bad_price):
    insane = ScriptedProvider("insane", quote(price=bad_price))
    sane = ScriptedProvider("sane", quote(price="601.00", provider="sane"))
    assert make_service(insane, sane).stock_quote("SPY").price == Decimal("601.00")
    assert CircuitBreaker("insane", cache).snapshot()["consecutive_failures"] == 0


def test_unbounded_symbols_only_need_a_positive_price(make_service):
    provider = ScriptedProvider("p", quote(symbol="XYZ", price="5.00"))
    assert make_service(provider).stock_quote("XYZ").price == Decimal("5.00")


def test_breaker_opens_after_five_consecutive_failures_and_skips_the_provider(make_service, cache, clocks):
    failing = ScriptedProvider("failing", BadResponseError("500ish"))
    backup = ScriptedProvider("backup", quote(provider="backup"))
    service = make_service(failing, backup)
    for _ in range(5):
        service.stock_quote("SPY")
        cache.delete("marketdata:quote:SPY")  # defeat the 30 s cache so every call goes out
    assert failing.calls == 5
    assert CircuitBreaker("failing", cache, wall_time=lambda: clocks.wall).state() == "open"
    service.stock_quote("SPY")
    assert failing.calls == 5  # skipped while open


def test_breaker_half_opens_after_sixty_seconds_and_a_good_probe_closes_it(make_service, cache, clocks):
    provider = ScriptedProvider("p", *[BadResponseError("x")] * 5, quote(provider="p"))
    service = make_service(provider, ScriptedProvider("backup", quote(provider="backup")))
    for _ in range(5):
        service.stock_quote("SPY")
        cache.delete("marketdata:quote:SPY")
    breaker = CircuitBreaker("p", cache, wall_time=lambda: clocks.wall)
    clocks.advance(OPEN_SECONDS - 1)
    assert breaker.state() == "open"
    clocks.advance(2)
    assert breaker.state() == "half_open"
    cache.delete("marketdata:quote:SPY")
    assert service.stock_quote("SPY").provider == "p"
    assert breaker.state() == "closed"
    assert breaker.snapshot()["consecutive_failures"] == 0


def test_a_failed_half_open_probe_reopens_for_another_period(make_service, cache, clocks):
    provider = ScriptedProvider("p", BadResponseError("still broken"))
    service = make_service(provider, ScriptedProvider("backup", quote(provider="backup")))
    for _ in range(5):
        service.stock_quote("SPY")
        cache.delete("marketdata:quote:SPY")
    clocks.advance(OPEN_SECONDS + 1)
    service.stock_quote("SPY")
    assert provider.calls == 6  # the probe
    breaker = CircuitBreaker("p", cache, wall_time=lambda: clocks.wall)
    assert breaker.state() == "open"
    clocks.advance(OPEN_SECONDS - 1)
    assert breaker.state() == "open"


def test_entitlement_errors_open_the_breaker_for_thirty_minutes_at_once(make_service, cache, clocks):
    provider = ScriptedProvider("p", EntitlementError("not authorized", status=403))
    with pytest.raises(MarketDataUnavailable):
        make_service(provider).stock_quote("SPY")
    breaker = CircuitBreaker("p", cache, wall_time=lambda: clocks.wall)
    assert breaker.snapshot()["last_error"] == "EntitlementError 403"
    clocks.advance(ENTITLEMENT_OPEN_SECONDS - 1)
    assert breaker.state() == "open"
    clocks.advance(2)
    assert breaker.state() == "half_open"


def test_breaker_state_is_shared_through_the_cache_and_only_one_process_probes(cache, clocks):
    first = CircuitBreaker("p", cache, wall_time=lambda: clocks.wall)
    second = CircuitBreaker("p", cache, wall_time=lambda: clocks.wall)  # another process
    for _ in range(5):
        first.record_failure(TransientError("down"))
    assert second.state() == "open" and not second.allow()
    clocks.advance(OPEN_SECONDS + 1)
    assert first.allow() is True
    assert second.allow() is False  # first holds the probe
    first.record_success()
    assert second.state() == "closed" and second.allow()


def test_no_data_answers_do_not_trip_the_breaker(make_service, cache):
    provider = ScriptedProvider("p", NoDataError("nothing"))
    service = make_service(provider, ScriptedProvider("b", quote(provider="b")))
    for _ in range(10):
        service.stock_quote("SPY")
        cache.delete("marketdata:quote:SPY")
    assert CircuitBreaker("p", cache).state() == "closed"


def test_quotes_are_cached_for_thirty_seconds_of_service_time(make_service, clocks):
    provider = ScriptedProvider("p", quote(price="600.00"), quote(price="601.00"))
    service = make_service(provider)
    assert service.stock_quote("SPY").price == Decimal("600.00")
    clocks.advance(QUOTE_TTL)
    assert service.stock_quote("SPY").price == Decimal("600.00")
    clocks.advance(1)
    assert service.stock_quote("SPY").price == Decimal("601.00")
    assert provider.calls == 2


def test_a_replay_clock_moving_backwards_never_reads_an_answer_from_another_moment(make_service, clocks):
    provider = ScriptedProvider("p", quote(price="600.00"), quote(price="601.00"))
    service = make_service(provider)
    service.stock_quote("SPY")
    clocks.advance(-60)
    assert service.stock_quote("SPY").price == Decimal("601.00")


def test_instant_providers_are_not_cached(make_service):
    provider = ScriptedProvider("sim", quote(price="600.00"), quote(price="601.00"), cacheable=False)
    service = make_service(provider)
    service.stock_quote("SPY")
    assert service.stock_quote("SPY").price == Decimal("601.00")


def test_last_known_price_serves_for_up_to_120_seconds_flagged_stale(make_service, clocks):
    provider = ScriptedProvider("p", quote(price="600.00", provider="p"), TransientError("down"))
    service = make_service(provider, retries=0)
    service.stock_quote("SPY")
    clocks.advance(LAST_KNOWN_MAX_AGE)
    stale = service.stock_quote("SPY")
    assert (stale.price, stale.stale, stale.provider) == (Decimal("600.00"), True, "p")
    clocks.advance(1)
    with pytest.raises(MarketDataUnavailable):
        service.stock_quote("SPY")


def test_health_reports_every_provider_and_an_overall_status(make_service, cache, clocks):
    service = make_service(ScriptedProvider("a", quote()), ScriptedProvider("b", quote()))
    assert service.health()["status"] == "ok"
    assert service.health()["chain"] == ["a", "b"]
    CircuitBreaker("a", cache, wall_time=lambda: clocks.wall).record_failure(EntitlementError("no", status=401))
    health = service.health()
    assert health["status"] == "degraded"
    assert health["providers"][0]["state"] == "open"
    assert health["providers"][0]["open_until"] is not None
    CircuitBreaker("b", cache, wall_time=lambda: clocks.wall).record_failure(EntitlementError("no", status=401))
    assert service.health()["status"] == "down"
