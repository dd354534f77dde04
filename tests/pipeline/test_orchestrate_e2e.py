"""Through the real webhook: a bias state and an alert in → a decided signal with both engines'
recommendations; and one alert stopped by each gate, with that gate's reason code (SPEC §6)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command

from optionsengine.lib import clock
from optionsengine.marketdata.registry import reset_service
from optionsengine.pipeline import decision_inputs, orchestrate
from positions_app.models import CircuitBreakerState
from signals_app.engines import reasons
from signals_app.models import DecisionRecommendation, MarketContext, RefactoredSignal, Signal
from tests.pipeline.builders import NOW, make_signal, open_position, seed_bias
from tests.pipeline.test_orchestrate import mid_band_iv

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).resolve().parent.parent / "marketdata" / "data" / "fixture_market.json"


@pytest.fixture(autouse=True)
def at_now():
    with clock.override(NOW):
        yield


def alert(post_webhook, symbol="SPY", direction="long", **extra) -> Signal:
    response, body = post_webhook({"ticker": symbol, "interval": "15", "direction": direction, "confidence": 85, **extra})
    assert response.status_code == 201, body
    return Signal.objects.get(pk=body["signal_id"])


def decide(signal: Signal) -> Signal:
    orchestrate.sweep(now=NOW)
    signal.refresh_from_db()
    assert signal.processed is True and signal.processing_lock is False
    return signal


def test_bias_and_alert_in_approved_signal_with_both_engines_out(post_webhook):
    seed_bias("SPY", "BULLISH")
    signal = alert(post_webhook)
    with mid_band_iv():
        signal = decide(signal)
    assert (signal.status, signal.rejection_reason) == ("approved", None)
    recs = {r.engine: r for r in DecisionRecommendation.objects.filter(signal=signal)}
    assert recs["A"].is_shadow is False and recs["A"].decision == "enter"
    assert recs["B"].is_shadow is True  # B is recorded for comparison, whatever it decided
    assert recs["A"].strike is not None and recs["A"].quantity >= 1


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("no_bias", reasons.MTF_BIAS_MISSING),
        ("suppressed", reasons.TRADE_SUPPRESSED_BY_BIAS),
        ("stale", reasons.BIAS_STATE_STALE),
        ("guard", "portfolio_guard_block:MAX_SAME_DIRECTION_PER_SYMBOL_CLUSTER"),
        ("setup", "setup_invalid:NO_TRIGGER_CONFIRMATION"),
        ("breaker", reasons.DRAWDOWN_CIRCUIT_BREAKER),
        ("greeks", reasons.GAMMA_EXPOSURE_LIMIT),
    ],
)
def test_each_gate_rejects_with_its_reason_code(post_webhook, setup, expected):
    if setup == "suppressed":  # a bullish state under a bearish macro suppresses longs only
        seed_bias("SPY", "BULLISH", changes={"macro.state.macro_class": "MACRO_TREND_DOWN"})
    elif setup == "stale":
        seed_bias("SPY", "BULLISH", at=NOW - timedelta(minutes=20))
    elif setup == "setup":
        seed_bias("SPY", "BULLISH", changes={"trigger.triggered": False})
    elif setup != "no_bias":
        seed_bias("SPY", "BULLISH")
    if setup == "guard":
        open_position(symbol="SPY")
        open_position(symbol="SPY")
    elif setup == "breaker":
        CircuitBreakerState.objects.create(pk=1, freeze_until=NOW + timedelta(minutes=10), updated_at=NOW)
    elif setup == "greeks":
        open_position(symbol="QQQ", quantity=10, greeks_at_entry={"delta": "0.6", "gamma": "0.02", "theta": "-0.3",
                                                                 "vega": "0.3"})
    signal = decide(alert(post_webhook))
    assert signal.status == "rejected"
    assert signal.rejection_reason == expected
    recs = DecisionRecommendation.objects.filter(signal=signal)
    assert {(r.engine, r.decision, r.reason) for r in recs} == {("A", "hold", expected), ("B", "hold", expected)}
    trail = RefactoredSignal.objects.get(signal=signal).risk_check_result
    assert trail["gates"][-1]["reason"] == expected and trail["gates"][-1]["detail"]


def test_bias_state_with_missing_fields_ends_in_a_reason_not_an_exception(post_webhook):
    from bias_app.models import BiasStateCurrent

    BiasStateCurrent.objects.create(symbol="SPY", updated_at_ms=1, state_json={"symbol": "SPY", "bias": "BULLISH"}, created_at=NOW, updated_at=NOW,
                                    event_id_raw="hand-written", source="test")
    signal = decide(alert(post_webhook))
    assert signal.status == "rejected" and signal.rejection_reason == reasons.BIAS_STATE_STALE


def test_chain_without_strikes_near_the_money_is_rejected_with_its_code(post_webhook):
    """A chain listing only far strikes (a provider glitch or an illiquid name) ends in a clear code."""
    seed_bias("SPY", "BULLISH")
    real = decision_inputs.market

    def far_strikes_only(facts, now):
        snapshot = real(facts, now)
        far = tuple(q for q in snapshot.chain.quotes if abs(q.contract.strike - snapshot.price) > snapshot.price / 10)
        return dataclasses.replace(snapshot, chain=dataclasses.replace(snapshot.chain, quotes=far),
                                   iv_rank=Decimal("50"))

    signal = alert(post_webhook)
    with mock.patch.object(decision_inputs, "market", far_strikes_only):
        signal = decide(signal)
    assert signal.rejection_reason == reasons.NO_STRIKE_NEAR_MONEY
    rec = DecisionRecommendation.objects.get(signal=signal, engine="A")
    assert (rec.decision, rec.reason, rec.strike) == ("hold", reasons.NO_STRIKE_NEAR_MONEY, None)


def test_fixture_market_and_frozen_clock_give_the_same_decision_every_time(settings):
    settings.MARKET_DATA_PROVIDERS = ["fixture"]
    settings.MARKET_DATA_FIXTURE = str(FIXTURE)
    reset_service()
    moment = NOW.replace(hour=14, minute=30)
    with clock.override(moment):
        seed_bias("SPY", "BULLISH", at=moment)
        signal = make_signal(at=moment, timeframe="5m")
        outcomes = []
        for _ in range(2):
            out = StringIO()
            call_command("run_pipeline_once", "--stage", "orchestrator", stdout=out)
            signal.refresh_from_db()
            recs = sorted(DecisionRecommendation.objects.filter(signal=signal).values_list(
                "engine", "decision", "reason", "strike", "expiration", "quantity", "entry_price"))
            outcomes.append((signal.status, signal.rejection_reason, recs,
                             MarketContext.objects.get(signal=signal).context_hash))
            Signal.objects.filter(pk=signal.pk).update(status="pending", processed=False, next_retry_at=None,
                                                       wait_attempts=0, rejection_reason=None)
    reset_service()
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][2]) == 2  # both engines recorded, identically both times
