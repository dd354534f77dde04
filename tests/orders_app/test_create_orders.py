"""Order creator (SPEC §7) on the real database: approved signals → one pending entry order each."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from optionsengine.lib.option_contracts import OptionRight, choose_strike
from optionsengine.pipeline import create_orders
from optionsengine.pipeline.create_orders import create_order_for_signal, sweep
from orders_app.models import Order, RiskLimit
from signals_app.engines.contract_selection import target_expiration
from signals_app.models import Signal
from tests.orders_app.builders import EXPIRY, NOW, approved_with_recommendation, entry_order, signal

pytestmark = pytest.mark.django_db


def test_approved_signal_gets_one_pending_entry_order_from_its_recommendation(market, django_capture_on_commit_callbacks):
    row = approved_with_recommendation(strike="602", quantity=3, engine="B", is_test=True)
    with django_capture_on_commit_callbacks() as callbacks:
        result = sweep(now=NOW)
    assert result.counts == {"created": 1} and result.ok
    order = Order.objects.get(signal=row)
    assert (order.side, order.status, order.order_type) == ("entry", "pending_execution", "paper")
    assert (order.option_symbol, order.occ_symbol) == ("SPY-20260410-C-602", "SPY260410C00602000")
    assert (order.strike, order.expiration, order.type, order.quantity) == (Decimal("602"), EXPIRY, "call", 3)
    assert (order.engine, order.experiment_id, order.is_test) == ("B", row.experiment_id, True)
    assert len(callbacks) == 1  # the paper executor is enqueued on commit
    assert sweep(now=NOW).counts == {}  # nothing left to do
    assert Order.objects.count() == 1


def test_short_signal_buys_a_put(market):
    row = approved_with_recommendation(direction="short", strike="600.5")
    sweep(now=NOW)
    order = Order.objects.get(signal=row)
    assert (order.type, order.option_symbol, order.occ_symbol) == ("put", "SPY-20260410-P-600.5", "SPY260410P00600500")


def test_legacy_signal_without_recommendation_uses_the_section_5_rules(market):
    RiskLimit.objects.update(enabled=False)
    RiskLimit.objects.create(max_position_size=50, created_at=NOW)  # clamped to MAX_CONTRACTS_PER_TRADE
    row = signal(direction="short", timeframe="1h")  # SWING: 21 DTE
    assert sweep(now=NOW).counts == {"created": 1}
    order = Order.objects.get(signal=row)
    assert order.expiration == target_expiration(NOW.date(), "SWING")
    assert order.strike == choose_strike(Decimal("601.20"), OptionRight.PUT)  # no chain: by increment
    assert (order.quantity, order.engine, order.experiment_id) == (10, None, None)


def test_legacy_signal_picks_from_the_simulated_chain():
    row = signal(direction="long", timeframe="5m")  # SCALP: 5 DTE
    assert sweep(now=NOW).counts == {"created": 1}
    order = Order.objects.get(signal=row)
    assert order.expiration == target_expiration(NOW.date(), "SCALP")
    assert order.quantity == 10  # the seeded risk limit


def test_no_price_retries_with_backoff_then_rejects(market, settings):
    settings.ORDER_CREATE_MAX_ATTEMPTS = 3
    market.down = True
    row = approved_with_recommendation(processing_attempts=2)  # the orchestrator's count is not ours
    assert sweep(now=NOW).counts == {"retry:market_data_unavailable": 1}
    row.refresh_from_db()
    assert (row.status, row.processing_attempts, row.queue_reason) == ("approved", 1, "order_creation_retry")
    assert row.next_retry_at == NOW + timedelta(seconds=30)
    assert sweep(now=NOW + timedelta(seconds=10)).counts == {}  # not due yet
    assert sweep(now=NOW + timedelta(seconds=30)).counts == {"retry:market_data_unavailable": 1}
    row.refresh_from_db()
    assert (row.processing_attempts, row.next_retry_at) == (2, NOW + timedelta(seconds=90))
    assert sweep(now=NOW + timedelta(seconds=90)).counts == {"rejected:market_data_unavailable": 1}
    row.refresh_from_db()
    assert (row.status, row.rejection_reason) == ("rejected", "order_creation_failed:market_data_unavailable")
    assert not Order.objects.exists()


def test_price_back_on_a_retry_creates_the_order(market):
    market.down = True
    row = approved_with_recommendation()
    sweep(now=NOW)
    market.down = False
    assert sweep(now=NOW + timedelta(seconds=30)).counts == {"created": 1}
    assert Order.objects.filter(signal=row).count() == 1


def test_stale_signal_is_rejected(market, settings):
    settings.SIGNAL_MAX_AGE_MINUTES = 30
    old = approved_with_recommendation(created_at=NOW - timedelta(minutes=31))
    assert sweep(now=NOW).counts == {"rejected:signal_stale": 1}
    old.refresh_from_db()
    assert (old.status, old.rejection_reason) == ("rejected", "order_creation_failed:signal_stale")


def test_age_counts_from_the_alert_time_as_in_the_orchestrator_not_from_arrival(market, settings):
    settings.SIGNAL_MAX_AGE_MINUTES = 30
    late = approved_with_recommendation(created_at=NOW - timedelta(minutes=1))
    Signal.objects.filter(pk=late.pk).update(timestamp=NOW - timedelta(minutes=31))  # delivered 30 min late
    assert sweep(now=NOW).counts == {"rejected:signal_stale": 1}


def test_a_signal_released_from_the_market_closed_queue_ages_from_its_release(market):
    queued = approved_with_recommendation(created_at=NOW - timedelta(hours=16), queued_until=NOW - timedelta(minutes=5))
    assert sweep(now=NOW).counts == {"created": 1}
    assert Order.objects.filter(signal=queued).exists()


def test_same_strike_cooldown_rejects_a_second_entry_on_the_same_contract(market):
    first = approved_with_recommendation()
    second = approved_with_recommendation(created_at=NOW - timedelta(seconds=30))
    assert sweep(now=NOW).counts == {"created": 1, "rejected:same_strike_cooldown": 1}
    assert Order.objects.filter(signal=first).exists()
    second.refresh_from_db()
    assert second.rejection_reason == "order_creation_failed:same_strike_cooldown"


def test_cooldown_counts_fills_within_the_window_only(market):
    from orders_app.models import Trade

    old = entry_order(created_at=NOW - timedelta(minutes=20))
    Order.objects.filter(pk=old.pk).update(status="filled")
    Trade.objects.create(order=old, fill_price=Decimal("5"), fill_quantity=2, fill_timestamp=NOW - timedelta(minutes=14),
                         engine="A", created_at=NOW)
    approved_with_recommendation()
    assert sweep(now=NOW).counts == {"rejected:same_strike_cooldown": 1}
    approved_with_recommendation(created_at=NOW - timedelta(seconds=20))
    assert sweep(now=NOW + timedelta(minutes=2)).counts == {"created": 1}  # the fill is 16 min old now


@pytest.mark.parametrize("change", [{"engine": "B"}, {"is_test": True}, {"raw_payload": {"source": "other"}}])
def test_cooldown_needs_the_same_engine_test_flag_and_source(market, change):
    entry_order(signal_row=signal(raw_payload={"indicator": "ORB"}), engine="A")
    approved_with_recommendation(**change)
    assert sweep(now=NOW).counts == {"created": 1}


def test_cooldown_can_be_switched_off(market, settings):
    settings.ENABLE_SAME_STRIKE_COOLDOWN = False
    approved_with_recommendation()
    approved_with_recommendation()
    assert sweep(now=NOW).counts == {"created": 2}


def test_a_stale_read_after_a_crash_leaves_one_order(market, monkeypatch):
    """A creator that read the signal before another created its order must not double it."""
    row = approved_with_recommendation()
    stale_read = list(create_orders._due_signals(NOW))
    assert sweep(now=NOW).counts == {"created": 1}
    monkeypatch.setattr(create_orders, "_due_signals", lambda now: _Sliceable(stale_read))
    assert sweep(now=NOW).counts == {"already_done": 1}
    assert Order.objects.filter(signal=row).count() == 1
    row.refresh_from_db()
    assert row.status == "approved" and row.rejection_reason is None


def test_a_signal_no_longer_approved_gets_no_order(market, monkeypatch):
    row = approved_with_recommendation()
    stale_read = list(create_orders._due_signals(NOW))
    Signal.objects.filter(pk=row.pk).update(status="rejected")
    monkeypatch.setattr(create_orders, "_due_signals", lambda now: _Sliceable(stale_read))
    assert sweep(now=NOW).counts == {"not_approved": 1}
    assert not Order.objects.exists()


def test_fast_path_for_one_signal(market):
    row = approved_with_recommendation()
    other = approved_with_recommendation(strike="610")
    assert create_order_for_signal(row.signal_id, NOW) == "created"
    assert create_order_for_signal(row.signal_id, NOW) == "not_due"
    assert not Order.objects.filter(signal=other).exists()


def _queries_for(count: int, market) -> int:
    for n in range(count):
        approved_with_recommendation(strike=str(590 + n))
    with CaptureQueriesContext(connection) as captured:
        assert sweep(now=NOW).counts == {"created": count}
    return len(captured.captured_queries)


def test_queries_per_signal_are_constant(market):
    one = _queries_for(1, market)
    Order.objects.all().delete()
    Signal.objects.all().delete()
    ten = _queries_for(10, market)
    # Per signal: the underlying quote is cached per symbol; SAVEPOINT, signal lock, order insert, RELEASE.
    assert ten - one == 9 * 4, (one, ten)


class _Sliceable(list):
    def __getitem__(self, item):
        return _Sliceable(super().__getitem__(item)) if isinstance(item, slice) else super().__getitem__(item)

    def filter(self, **kwargs):
        return _Sliceable(self)
