"""Position refresher on the real database with a controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from optionsengine.pipeline import events
from optionsengine.pipeline.refresh import sweep
from positions_app.models import ExitRule, Position
from tests.positions_app.builders import NIGHT, NOW, D, make_position

pytestmark = pytest.mark.django_db


def refreshed(position: Position) -> Position:
    position.refresh_from_db()
    return position


def test_it_marks_pnl_high_water_mark_and_arms_the_trailing_stop(market, now, django_capture_on_commit_callbacks):
    position = make_position(quantity=10, entry_price="5.00")
    market.set(position.occ_symbol, "6.00")
    events.reset_counts()
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep(now=NOW)
    assert result.counts["refreshed"] == 1
    p = refreshed(position)
    assert (p.current_price, p.unrealized_pnl, p.position_pnl_percent) == (D("6.0000"), D("1000.00"), D("20.0000"))
    assert (p.high_water_mark, p.trailing_stop_price, p.last_updated) == (D("6.0000"), D("5.1000"), NOW)
    assert events.published_counts() == {"position_update": 1, "risk_update": 1}


def test_the_trailing_stop_ratchets_only_upward(market, now):
    position = make_position()
    for mid, stop in (("6.00", "5.1000"), ("7.00", "5.9500"), ("6.50", "5.9500"), ("4.00", "5.9500")):
        market.set(position.occ_symbol, mid)
        sweep(now=NOW)
        assert refreshed(position).trailing_stop_price == D(stop)
    assert refreshed(position).high_water_mark == D("7.0000")


def test_activation_and_trail_come_from_the_newest_enabled_exit_rule(market, now):
    ExitRule.objects.update(enabled=False)
    ExitRule.objects.create(rule_name="tight", trailing_stop_percent=D("10"), trailing_stop_activation_percent=D("5"),
                            created_at=NOW - timedelta(days=1))
    position = make_position()
    market.set(position.occ_symbol, "5.25")  # +5 %
    sweep(now=NOW)
    assert refreshed(position).trailing_stop_price == D("4.7250")


def test_a_position_without_a_fresh_quote_keeps_its_last_mark(market, now):
    kept = make_position(current_price=D("5.40"), last_updated=NOW - timedelta(minutes=3))
    stale = make_position(strike="605", current_price=D("5.10"), last_updated=NOW - timedelta(minutes=3))
    market.set(kept.occ_symbol, None)
    market.set(stale.occ_symbol, "9.00", stale=True)
    result = sweep(now=NOW)
    assert (result.counts["quote_unavailable"], result.counts["quote_stale"], result.counts["refreshed"]) == (1, 1, 0)
    for position, mark in ((kept, "5.40"), (stale, "5.10")):
        p = refreshed(position)
        assert (p.current_price, p.last_updated) == (D(mark), NOW - timedelta(minutes=3))


def test_closing_positions_and_closed_markets_are_left_alone(market, now):
    closing = make_position(status=Position.Status.CLOSING)
    market.set(closing.occ_symbol, "9.00")
    sweep(now=NOW)
    assert refreshed(closing).current_price is None
    open_one = make_position(strike="610")
    assert sweep(now=NIGHT).counts == {"market_closed": 1}
    assert refreshed(open_one).current_price is None and market.calls == 0  # no quote fetched at all


def _queries(count: int, market) -> int:
    for i in range(count):
        make_position(strike=str(500 + i))
    with CaptureQueriesContext(connection) as ctx:
        sweep(now=NOW)
    assert Position.objects.filter(last_updated=NOW, status=Position.Status.OPEN).count() == count
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_number_of_positions(market, now):
    one = _queries(1, market)
    Position.objects.all().update(status=Position.Status.CLOSED)
    twenty = _queries(20, market)
    assert one == twenty, (one, twenty)


def test_many_contracts_of_one_expiration_are_priced_from_one_chain(market, now):
    positions = [make_position(strike=str(550 + i)) for i in range(8)]
    for p in positions[:7]:
        market.set(p.occ_symbol, "6.00")  # the eighth is missing from the chain: priced alone
    result = sweep(now=NOW)
    assert (result.counts["refreshed"], market.chain_calls, market.calls) == (8, 1, 1)
    market.chains_down = True
    sweep(now=NOW)
    assert (market.chain_calls, market.calls) == (2, 9)  # a failed chain falls back to quotes
