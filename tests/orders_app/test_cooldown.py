"""Same-strike cooldown (pure): webhook source derivation and the blocking rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders_app.engines.cooldown import RecentEntry, blocking_entry, webhook_source

NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "source"),
    [
        ({"meta": {"engine": "SATY_PO"}}, "SATY_PHASE"),
        ({"journal": {"engine": "STRAT_V6_FULL"}}, "STRAT"),
        ({"timeframes": {}, "bias": "x", "ticker": "SPY"}, "TREND"),
        ({"indicator": "orb"}, "ORB"),
        ({"indicator": "Stretch"}, "ORB"),
        ({"trend": "up", "score": "7.5", "signal": {"type": "buy"}}, "SIGNALS"),
        ({"trend": "up", "score": "high", "signal": "buy"}, "UNKNOWN"),
        ({"source": "my-strategy"}, "my-strategy"),
        ({"strategy": "breakout"}, "breakout"),
        ({"indicator": "RSI"}, "RSI"),
        ({}, "UNKNOWN"),
        (None, "UNKNOWN"),
    ],
)
def test_webhook_source(payload, source):
    assert webhook_source(payload) == source


def entry(**changes) -> RecentEntry:
    base = {"option_symbol": "SPY-20260410-C-602", "engine": "A", "is_test": False, "source": "ORB", "pending": False,
            "filled_at": NOW - timedelta(minutes=5)}
    return RecentEntry(**{**base, **changes})


def blocks(recent, minutes=15, **candidate) -> bool:
    base = {"option_symbol": "SPY-20260410-C-602", "engine": "A", "is_test": False, "source": "ORB"}
    return blocking_entry(**{**base, **candidate}, recent=recent, now=NOW, minutes=minutes) is not None


def test_a_recent_fill_on_the_same_contract_blocks():
    assert blocks([entry()])


def test_a_fill_older_than_the_window_does_not_block():
    assert not blocks([entry(filled_at=NOW - timedelta(minutes=16))])
    assert blocks([entry(filled_at=NOW - timedelta(minutes=15))])  # the boundary is inside


def test_a_pending_entry_blocks_whatever_its_age():
    assert blocks([entry(pending=True, filled_at=None)])


@pytest.mark.parametrize(
    "different",
    [{"option_symbol": "SPY-20260410-C-603"}, {"engine": "B"}, {"is_test": True}, {"source": "TREND"}],
)
def test_only_the_same_contract_engine_test_flag_and_source_block(different):
    assert not blocks([entry(**different)])


def test_zero_minutes_disables_the_cooldown():
    assert not blocks([entry(pending=True)], minutes=0)
