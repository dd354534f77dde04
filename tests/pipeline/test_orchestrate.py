"""The orchestrator stage on a real database and the simulated market (SPEC §6)."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from optionsengine import marketdata
from optionsengine.lib import clock
from optionsengine.pipeline import decision_inputs, orchestrate
from orders_app.models import RiskLimit
from positions_app.models import CircuitBreakerState
from signals_app.engines import reasons
from signals_app.models import (
    AgentDecision,
    DecisionRecommendation,
    ExecutionPolicy,
    Experiment,
    MarketContext,
    RefactoredSignal,
    Signal,
)
from signals_app.services import leases
from tests.pipeline.builders import NOW, make_signal, open_position, seed_bias, utc

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def at_now():
    with clock.override(NOW):
        yield


@contextlib.contextmanager
def mid_band_iv():
    """Pin IV rank to 50 so the tier-1 volatility band passes whatever the simulated regime is."""
    real = decision_inputs.market
    with mock.patch.object(decision_inputs, "market",
                           lambda facts, now: dataclasses.replace(real(facts, now), iv_rank=Decimal("50"))):
        yield


def run(now=NOW, **kwargs):
    return orchestrate.sweep(now=now, **kwargs)


def refreshed(signal: Signal) -> Signal:
    signal.refresh_from_db()
    return signal


def assert_released(signal: Signal) -> None:
    assert signal.processing_lock is False and signal.locked_by is None and signal.locked_at is None


def test_bullish_bias_and_long_alert_are_decided_by_both_engines(django_capture_on_commit_callbacks):
    seed_bias("SPY", "BULLISH")
    signal = make_signal()
    with mock.patch("optionsengine.pipeline.orchestrate.after_commit") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            result = run()
    signal = refreshed(signal)
    assert result.counts["claimed"] == 1
    assert signal.processed is True
    assert_released(signal)
    experiment = Experiment.objects.get(signal=signal)
    assert signal.experiment_id == experiment.experiment_id
    assert experiment.variant == "A"  # AB_SPLIT_PERCENTAGE defaults to 0
    policy = ExecutionPolicy.objects.get(experiment=experiment)
    assert (policy.execution_mode, policy.executed_engine, policy.shadow_engine) == ("ENGINE_A_PRIMARY", "A", "B")
    recs = {r.engine: r for r in DecisionRecommendation.objects.filter(experiment=experiment)}
    assert set(recs) == {"A", "B"}
    assert recs["A"].is_shadow is False and recs["B"].is_shadow is True
    assert AgentDecision.objects.filter(experiment=experiment, engine="A").exists()
    assert AgentDecision.objects.filter(experiment=experiment, engine="B", agent_name="meta_decision").exists()
    assert MarketContext.objects.get(signal=signal).context_hash
    trail = RefactoredSignal.objects.get(signal=signal).risk_check_result
    assert [g["name"] for g in trail["gates"]][0] == "bias"
    if signal.status == Signal.Status.APPROVED:
        assert recs["A"].decision == "enter" and recs["A"].quantity >= 1 and recs["A"].strike is not None
        enqueue.assert_called_once_with("create_orders", signal.pk)
    else:  # the engine's own verdict on this simulated moment; still a stable code and no order
        assert signal.rejection_reason and recs["A"].decision != "enter"
        enqueue.assert_not_called()


def test_approved_signal_with_engine_a_entering():
    """A bullish bias, a confident alert and IV rank mid-band: Engine A enters, the signal is approved."""
    seed_bias("SPY", "BULLISH")
    signal = make_signal(raw_payload={"symbol": "SPY", "direction": "long", "timeframe": "15m", "confidence": 90})
    with mid_band_iv():
        run()
    signal = refreshed(signal)
    rec = DecisionRecommendation.objects.get(signal=signal, engine="A")
    assert rec.decision == "enter", rec.reason
    assert signal.status == Signal.Status.APPROVED and signal.rejection_reason is None
    assert 1 <= rec.quantity <= 10
    assert rec.expiration is not None and rec.entry_price > 0


def test_rerunning_a_decided_signal_duplicates_no_row():
    seed_bias("SPY", "BULLISH")
    signal = make_signal()
    run()
    counts = (Experiment.objects.count(), ExecutionPolicy.objects.count(), DecisionRecommendation.objects.count(),
              AgentDecision.objects.count(), MarketContext.objects.count(), RefactoredSignal.objects.count())
    Signal.objects.filter(pk=signal.pk).update(status="pending", processed=False)  # an operator's "re-run"
    run()
    assert (Experiment.objects.count(), ExecutionPolicy.objects.count(), DecisionRecommendation.objects.count(),
            AgentDecision.objects.count(), MarketContext.objects.count(), RefactoredSignal.objects.count()) == counts


def test_a_late_worker_whose_lease_was_taken_over_writes_nothing():
    seed_bias("SPY", "BULLISH")
    signal = make_signal()
    from django.db import transaction

    with transaction.atomic():
        [late_copy] = leases.claim_signals(now=NOW, limit=5, token="slow-worker")
    later = NOW + timedelta(minutes=6)  # past LOCK_STALENESS_MINUTES: the lease is recovered
    with clock.override(later):
        result = run(now=later)
    assert result.counts["leases_recovered"] == 1 and result.counts["claimed"] == 1
    decided = refreshed(signal)
    assert decided.processed is True
    rows = DecisionRecommendation.objects.count()
    with pytest.raises(leases.LeaseLost):
        orchestrate.process_claimed(late_copy, "slow-worker", NOW)
    assert DecisionRecommendation.objects.count() == rows
    assert refreshed(signal).status == decided.status and refreshed(signal).rejection_reason == decided.rejection_reason


def test_stale_signal_is_rejected_without_an_experiment():
    signal = make_signal(timestamp=NOW - timedelta(minutes=31))
    result = run()
    signal = refreshed(signal)
    assert (signal.status, signal.rejection_reason, signal.processed) == ("rejected", reasons.SIGNAL_STALE, True)
    assert_released(signal)
    assert result.counts["rejected:signal_stale"] == 1
    assert not Experiment.objects.exists()
    assert "min old" in RefactoredSignal.objects.get(signal=signal).risk_check_result["detail"]


def test_weekend_signal_is_queued_until_monday_open_then_decided_with_age_from_release():
    saturday = utc(2026, 3, 14, 16, 0)
    signal = make_signal(at=saturday)
    assert run(now=saturday).counts["queued"] == 1
    signal = refreshed(signal)
    assert (signal.status, signal.processed, signal.queue_reason) == ("pending", False, "market_closed")
    assert signal.queued_until == utc(2026, 3, 16, 13, 30)
    assert run(now=utc(2026, 3, 15, 12, 0)).counts["claimed"] == 0  # not due yet
    monday = utc(2026, 3, 16, 13, 50)
    seed_bias("SPY", "BULLISH", at=monday)
    with clock.override(monday):
        result = run(now=monday)
    assert result.counts["claimed"] == 1
    assert refreshed(signal).processed is True
    assert refreshed(signal).rejection_reason != reasons.SIGNAL_STALE


def test_market_closed_reject_and_decision_only(settings):
    saturday = utc(2026, 3, 14, 16, 0)
    settings.MARKET_CLOSED_BEHAVIOR = "reject"
    rejected = make_signal(at=saturday)
    run(now=saturday)
    assert refreshed(rejected).rejection_reason == reasons.MARKET_CLOSED
    settings.MARKET_CLOSED_BEHAVIOR = "decision_only"
    seed_bias("SPY", "BULLISH", at=saturday)
    shadow = make_signal(at=saturday, symbol="SPY", direction="short")
    with clock.override(saturday):
        run(now=saturday)
    shadow = refreshed(shadow)
    assert (shadow.status, shadow.rejection_reason) == ("rejected", reasons.MARKET_CLOSED)
    recs = DecisionRecommendation.objects.filter(signal=shadow)
    assert recs.count() == 2 and all(r.is_shadow for r in recs)
    assert ExecutionPolicy.objects.get(experiment__signal=shadow).execution_mode == "SHADOW_ONLY"


def test_test_signals_bypass_market_hours():
    saturday = utc(2026, 3, 14, 16, 0)
    signal = make_signal(at=saturday, is_test=True)
    with clock.override(saturday):
        run(now=saturday)
    signal = refreshed(signal)
    assert signal.processed is True and signal.queued_until is None  # decided at once, not queued
    assert signal.rejection_reason != reasons.MARKET_CLOSED


def test_open_position_limit_defers_then_rejects_when_stale():
    RiskLimit.objects.update(max_open_positions=1)
    open_position(symbol="QQQ")
    signal = make_signal(timestamp=NOW - timedelta(minutes=10))
    assert run().counts["deferred"] == 1
    signal = refreshed(signal)
    assert (signal.status, signal.rejection_reason) == ("pending", reasons.MAX_OPEN_POSITIONS_EXCEEDED)
    assert signal.next_retry_at == NOW + timedelta(seconds=60)
    later = NOW + timedelta(minutes=20)
    run(now=later)
    signal = refreshed(signal)
    assert (signal.status, signal.rejection_reason, signal.processed) == ("rejected", reasons.MAX_OPEN_POSITIONS_EXCEEDED, True)


def test_daily_loss_cap_rejects():
    open_position(unrealized_pnl="-1000.00")
    signal = make_signal(symbol="QQQ")
    run()
    assert refreshed(signal).rejection_reason == reasons.DAILY_LOSS_CAP_EXCEEDED


def test_market_data_outage_retries_three_times_then_rejects_and_never_leaves_the_signal_locked():
    signal = make_signal()
    outage = marketdata.MarketDataUnavailable("stock quote SPY", [("simulated", "Down", "test")])
    with mock.patch("optionsengine.pipeline.enrich.marketdata.get_service") as service:
        service.return_value.stock_quote.side_effect = outage
        moment = NOW
        for attempt in (1, 2):
            assert run(now=moment).counts["retrying"] == 1
            signal = refreshed(signal)
            assert (signal.status, signal.rejection_reason, signal.processing_attempts) == (
                "pending", reasons.MARKET_DATA_UNAVAILABLE, attempt)
            assert_released(signal)
            moment = signal.next_retry_at
        assert run(now=moment).counts["rejected:market_data_unavailable"] == 1
    signal = refreshed(signal)
    assert (signal.status, signal.processed) == ("rejected", True)
    assert_released(signal)


def test_an_unexpected_error_becomes_a_processing_failed_retry():
    signal = make_signal()
    seed_bias("SPY", "BULLISH")
    with mock.patch("optionsengine.pipeline.orchestrate.decide_signal", side_effect=ZeroDivisionError("bug")):
        result = run()
    assert result.errors and result.counts["retrying"] == 1
    signal = refreshed(signal)
    assert (signal.status, signal.rejection_reason, signal.processing_attempts) == ("pending", reasons.PROCESSING_FAILED, 1)
    assert_released(signal)


def test_drawdown_breaker_trip_is_persisted():
    seed_bias("SPY", "BULLISH")
    open_position(symbol="QQQ", quantity=1, entry_price="10.0000", unrealized_pnl="-50.00")  # 5 % of 1000
    signal = make_signal()
    run()
    assert refreshed(signal).rejection_reason == reasons.DRAWDOWN_CIRCUIT_BREAKER
    breaker = CircuitBreakerState.objects.get(pk=1)
    assert breaker.freeze_until == NOW + timedelta(minutes=30)


def test_queries_per_signal_do_not_grow_with_the_batch_or_the_tables():
    seed_bias("SPY", "BULLISH")

    def queries_for(n: int) -> int:
        ids = [make_signal().pk for _ in range(n)]  # identical alerts: identical decision paths
        run(signal_ids=ids)  # warm the market-data caches for these inputs
        Signal.objects.filter(pk__in=ids).update(status="pending", processed=False)
        with CaptureQueriesContext(connection) as ctx:
            run(signal_ids=ids)
        return len(ctx.captured_queries)

    one, five = queries_for(1), queries_for(5)
    per_signal = (five - one) // 4
    assert five - one == 4 * per_signal
    for _ in range(3):  # the tables grow by 30 decided signals; the count stays put
        [make_signal(symbol="QQQ").pk for _ in range(10)]
        run()
    assert queries_for(1) == one
    assert per_signal <= 20, per_signal


def test_simple_processor_when_the_orchestrator_is_disabled(settings):
    settings.ENABLE_ORCHESTRATOR = False
    signal = make_signal()
    run()
    signal = refreshed(signal)
    assert signal.processed is True and signal.status in ("approved", "rejected")
    assert not Experiment.objects.exists()
    assert RefactoredSignal.objects.get(signal=signal).enriched_data["processor"] == "simple"


def test_a_burst_of_approvals_cannot_overshoot_the_open_position_cap():
    """Approved entries not yet filled count against the caps, within a batch and across sweeps."""
    RiskLimit.objects.update(max_open_positions=2, max_positions_per_symbol=5)
    seed_bias("SPY", "BULLISH")
    signals = [make_signal() for _ in range(3)]
    with mid_band_iv():
        run()
    outcomes = sorted(refreshed(s).status for s in signals)
    assert outcomes == ["approved", "approved", "pending"]
    deferred = next(s for s in signals if refreshed(s).status == "pending")
    assert refreshed(deferred).rejection_reason == reasons.MAX_OPEN_POSITIONS_EXCEEDED
    late = make_signal(symbol="QQQ")
    run()  # a later sweep still sees the two approvals on their way to a fill
    assert refreshed(late).rejection_reason == reasons.MAX_OPEN_POSITIONS_EXCEEDED
