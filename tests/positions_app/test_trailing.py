"""Trailing stop: the refresher's ratchet and the exit layers' adjustments (pure)."""

from __future__ import annotations

import pytest

from positions_app.engines.exit_inputs import ExitRulesConfig, StopChange
from positions_app.engines.trailing import adjust_stop, breached, effective_stop, refresh_trailing
from tests.positions_app.builders import D

RULES = ExitRulesConfig()  # trail 15 % after +20 %


def refresh(mark, pnl, hwm=None, stop=None, rules=RULES):
    return refresh_trailing(
        entry_price=D("5.00"), mark=D(mark), pnl_percent=D(pnl), high_water_mark=None if hwm is None else D(hwm),
        stop=None if stop is None else D(stop), rules=rules,
    )


@pytest.mark.parametrize(
    ("mark", "pnl", "hwm", "stop", "expected"),
    [
        ("5.50", "10", None, None, ("5.50", None)),  # below activation: high-water mark only
        ("5.9995", "19.99", None, None, ("5.9995", None)),
        ("6.00", "20", None, None, ("6.00", "5.1000")),  # armed at +20 %: 6.00 × 0.85
        ("7.00", "40", "6.00", "5.10", ("7.00", "5.9500")),  # new high: ratchets up
        ("6.50", "30", "7.00", "5.95", ("7.00", "5.95")),  # below the high: unchanged
        ("4.00", "-20", "7.00", "5.95", ("7.00", "5.95")),  # never moves down, never disarms
        ("7.10", "42", "7.00", "6.20", ("7.10", "6.20")),  # a tightened stop above the trail stays
        ("4.90", "-2", None, None, ("5.00", None)),  # the high-water mark starts at entry
    ],
)
def test_refresh_ratchets_only_upward_from_new_highs(mark, pnl, hwm, stop, expected):
    new_hwm, new_stop = refresh(mark, pnl, hwm, stop)
    assert (new_hwm, new_stop) == (D(expected[0]), None if expected[1] is None else D(expected[1]))


def test_a_widened_stop_stays_widened_until_a_new_high():
    # widened to 5.60 below the 5.95 trail of the 7.00 high; refresh below the high keeps it.
    assert refresh("6.80", "36", "7.00", "5.60") == (D("7.00"), D("5.60"))
    assert refresh("7.20", "44", "7.00", "5.60") == (D("7.20"), D("6.1200"))


def test_no_trailing_when_the_trail_percent_is_zero():
    rules = ExitRulesConfig(trailing_stop_percent=D(0))
    assert refresh("9.00", "80", rules=rules) == (D("9.00"), None)


@pytest.mark.parametrize(
    ("mark", "stop", "change", "expected"),
    [
        ("6.00", "5.00", StopChange(tighten=D("0.75")), "5.2500"),  # distance 1.00 → 0.75
        ("6.00", None, StopChange(tighten=D("0.8")), "5.2800"),  # no stop: 15 % trail × 0.8
        ("6.00", "5.80", StopChange(tighten=D("0.75")), "5.8500"),
        ("6.00", "5.00", StopChange(widen=D("1.15")), "4.8500"),
        ("6.00", None, StopChange(widen=D("1.15")), None),  # nothing to widen
        ("6.00", None, StopChange(convert=True), "5.1000"),  # start trailing now
        ("6.00", "5.50", StopChange(convert=True), "5.50"),  # already trailing
        ("6.00", "5.00", StopChange(absolute=D("5.40")), "5.4000"),  # tier-4 tighten: 90 % of the mark
        ("6.00", "5.70", StopChange(absolute=D("5.40")), "5.70"),  # never lowered by a tighten
        ("6.00", "5.00", StopChange(), "5.00"),
    ],
)
def test_stop_adjustments(mark, stop, change, expected):
    result = adjust_stop(mark=D(mark), stop=None if stop is None else D(stop), change=change, rules=RULES)
    assert result == (None if expected is None else D(expected))


def test_stale_mark_moves_a_losing_side_stop_halfway_to_entry():
    assert effective_stop(stop=D("4.00"), entry_price=D("5.00"), stale=True) == D("4.5000")
    assert effective_stop(stop=D("5.50"), entry_price=D("5.00"), stale=True) == D("5.50")  # profit already locked
    assert effective_stop(stop=D("4.00"), entry_price=D("5.00"), stale=False) == D("4.00")
    assert breached(mark=D("4.40"), stop=None, entry_price=D("5"), stale=True) is False
