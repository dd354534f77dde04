"""The signal state machine (SPEC §6), one table per transition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from signals_app.engines import lifecycle, reasons
from signals_app.engines.lifecycle import LifecycleConfig, SignalClock
from signals_app.engines.snapshot import OpenPosition, Portfolio, RiskLimits

# Friday 2026-03-13, 10:30 New York (regular hours); Saturday 2026-03-14 12:00 New York (closed).
OPEN = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
WEEKEND = datetime(2026, 3, 14, 16, 0, tzinfo=UTC)
MONDAY_OPEN = datetime(2026, 3, 16, 13, 30, tzinfo=UTC)  # 09:30 EDT
CONFIG = LifecycleConfig()


def clock(*, age=timedelta(minutes=1), now=OPEN, queued_until=None, is_test=False, attempts=0, waits=0) -> SignalClock:
    return SignalClock(timestamp=now - age, queued_until=queued_until, is_test=is_test,
                       processing_attempts=attempts, wait_attempts=waits)


@pytest.mark.parametrize(
    ("age", "stale"),
    [(timedelta(minutes=30), False), (timedelta(minutes=30, seconds=1), True), (timedelta(minutes=5), False)],
)
def test_signal_older_than_max_age_is_rejected_stale(age, stale):
    transition = lifecycle.before_decision(clock(age=age), OPEN, CONFIG)
    assert (transition is not None and transition.reason == reasons.SIGNAL_STALE) is stale
    if stale:
        assert transition.final and transition.status == "rejected"


def test_released_queued_signal_ages_from_its_release_not_its_alert():
    released = OPEN - timedelta(minutes=10)
    old_alert = clock(age=timedelta(days=2), queued_until=released)
    assert lifecycle.before_decision(old_alert, OPEN, CONFIG) is None
    assert lifecycle.before_decision(old_alert, released + timedelta(minutes=31), CONFIG).reason == reasons.SIGNAL_STALE


def test_market_closed_queues_until_the_next_open_by_default():
    transition = lifecycle.before_decision(clock(now=WEEKEND), WEEKEND, CONFIG)
    assert transition.status == "pending" and not transition.final
    assert transition.queued_until == MONDAY_OPEN
    assert transition.queue_reason == reasons.MARKET_CLOSED


def test_market_closed_on_a_holiday_queues_past_it():
    good_friday = datetime(2026, 4, 3, 15, 0, tzinfo=UTC)
    transition = lifecycle.before_decision(clock(now=good_friday), good_friday, CONFIG)
    assert transition.queued_until == datetime(2026, 4, 6, 13, 30, tzinfo=UTC)


def test_market_closed_reject_behaviour_rejects():
    config = LifecycleConfig(market_closed_behavior="reject")
    transition = lifecycle.before_decision(clock(now=WEEKEND), WEEKEND, config)
    assert transition.final and transition.reason == reasons.MARKET_CLOSED


def test_market_closed_decision_only_lets_the_engines_run_but_marks_it():
    config = LifecycleConfig(market_closed_behavior="decision_only")
    c = clock(now=WEEKEND)
    assert lifecycle.before_decision(c, WEEKEND, config) is None
    assert lifecycle.decision_only_now(c, WEEKEND, config) is True
    assert lifecycle.decision_only_now(c, OPEN, config) is False


def test_test_signals_bypass_market_hours():
    c = clock(now=WEEKEND, is_test=True)
    assert lifecycle.before_decision(c, WEEKEND, CONFIG) is None
    assert lifecycle.decision_only_now(c, WEEKEND, LifecycleConfig(market_closed_behavior="decision_only")) is False


def _position(symbol="SPY"):
    return OpenPosition(symbol=symbol, type="call", quantity=1, entry_price=Decimal("2.00"), current_price=None,
                        unrealized_pnl=None, expiration=OPEN.date(), entry_timestamp=OPEN, greeks_at_entry=None)


@pytest.mark.parametrize(
    ("positions", "daily_pnl", "limits", "expected"),
    [
        ((), Decimal("0"), RiskLimits(), None),
        ((_position(),) * 4, Decimal("0"), RiskLimits(max_open_positions=5, max_positions_per_symbol=5), None),
        ((_position(),) * 5, Decimal("0"), RiskLimits(max_open_positions=5, max_positions_per_symbol=9),
         reasons.MAX_OPEN_POSITIONS_EXCEEDED),
        ((_position(),) * 3, Decimal("0"), RiskLimits(), reasons.MAX_POSITIONS_PER_SYMBOL_EXCEEDED),
        ((_position("QQQ"),) * 3, Decimal("0"), RiskLimits(), None),
        ((), Decimal("-999.99"), RiskLimits(), None),
        ((), Decimal("-1000.00"), RiskLimits(), reasons.DAILY_LOSS_CAP_EXCEEDED),
        # 0 means "no limit", never "reject everything" (reference bug §9.1 item 12)
        ((_position(),) * 9, Decimal("-5000"), RiskLimits(max_open_positions=0, max_positions_per_symbol=0,
                                                          max_daily_loss=Decimal("0")), None),
    ],
)
def test_risk_caps(positions, daily_pnl, limits, expected):
    violation = lifecycle.risk_cap_violation(Portfolio(positions=positions, daily_pnl=daily_pnl, limits=limits), "SPY")
    assert (violation[0] if violation else None) == expected


def test_position_limit_defers_while_the_signal_is_young():
    transition = lifecycle.after_risk_limit(clock(age=timedelta(minutes=5)), reasons.MAX_OPEN_POSITIONS_EXCEEDED,
                                            "5 open", OPEN, CONFIG)
    assert transition.status == "pending" and transition.next_retry_at == OPEN + timedelta(seconds=60)
    assert transition.reason == reasons.MAX_OPEN_POSITIONS_EXCEEDED


@pytest.mark.parametrize(("age_s", "final"), [(29 * 60, False), (29 * 60 + 1, True)])
def test_position_limit_rejects_when_the_next_look_would_be_stale(age_s, final):
    transition = lifecycle.after_risk_limit(clock(age=timedelta(seconds=age_s)), reasons.MAX_POSITIONS_PER_SYMBOL_EXCEEDED,
                                            "3 open SPY", OPEN, CONFIG)
    assert transition.final is final
    assert transition.reason == reasons.MAX_POSITIONS_PER_SYMBOL_EXCEEDED


def test_daily_loss_cap_rejects_at_once():
    transition = lifecycle.after_risk_limit(clock(), reasons.DAILY_LOSS_CAP_EXCEEDED, "−1000", OPEN, CONFIG)
    assert transition.final and transition.reason == reasons.DAILY_LOSS_CAP_EXCEEDED


@pytest.mark.parametrize(
    ("attempts_before", "final", "attempts_after"),
    [(0, False, 1), (1, False, 2), (2, True, 3)],
)
@pytest.mark.parametrize("reason", sorted(reasons.TRANSIENT))
def test_transient_faults_retry_three_attempts_in_all(reason, attempts_before, final, attempts_after):
    transition = lifecycle.after_fault(clock(attempts=attempts_before), reason, "boom", OPEN, CONFIG)
    assert transition.final is final
    assert transition.reason == reason
    assert transition.processing_attempts == attempts_after
    assert transition.next_retry_at == (None if final else OPEN + timedelta(seconds=60))


def test_non_transient_fault_rejects_at_once():
    transition = lifecycle.after_fault(clock(), reasons.CONFLUENCE_BELOW_THRESHOLD, "49 < 50", OPEN, CONFIG)
    assert transition.final and transition.reason == reasons.CONFLUENCE_BELOW_THRESHOLD


@pytest.mark.parametrize(("waits_before", "final"), [(0, False), (2, False), (3, True)])
def test_wait_has_its_own_counter_then_is_exhausted(waits_before, final):
    transition = lifecycle.after_wait(clock(waits=waits_before, attempts=2), "GEX_RESISTANCE", OPEN, CONFIG)
    assert transition.final is final
    assert transition.reason == (reasons.ENTRY_WAIT_EXHAUSTED if final else reasons.ENTRY_WAIT)
    assert transition.processing_attempts is None  # faults' counter untouched
    if not final:
        assert transition.next_retry_at == OPEN + timedelta(minutes=5)
        assert transition.wait_attempts == waits_before + 1
