"""The P&L page's pure statistics: equity curve, win rate, profit factor, average R, chart geometry."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from positions_app.engines import performance
from positions_app.engines.performance import INFINITY, ClosedTrade

D = Decimal
T0 = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)


def trade(pnl: str, *, minutes: int = 0, symbol: str = "SPY", engine: str | None = "A", r: str | None = None,
          pid: str | None = None) -> ClosedTrade:
    return ClosedTrade(
        position_id=pid or f"p{minutes:04d}", symbol=symbol, engine=engine, closed_at=T0 + timedelta(minutes=minutes),
        realized_pnl=D(pnl), r_multiple=None if r is None else D(r),
    )


def test_equity_curve_accumulates_in_closing_order_whatever_the_input_order():
    trades = [trade("-50.25", minutes=2), trade("100.00", minutes=0), trade("30.10", minutes=1)]
    curve = performance.equity_curve(trades)
    assert [p.trade.realized_pnl for p in curve] == [D("100.00"), D("30.10"), D("-50.25")]
    assert [str(p.cumulative) for p in curve] == ["100.00", "130.10", "79.85"]


def test_equity_curve_breaks_ties_by_position_id():
    curve = performance.equity_curve([trade("1.00", pid="b"), trade("2.00", pid="a")])
    assert [p.trade.position_id for p in curve] == ["a", "b"]


def test_empty_curve_and_stats():
    assert performance.equity_curve([]) == []
    stats = performance.summarize("all", [])
    assert (stats.trades, stats.win_rate, stats.profit_factor, stats.average_r) == (0, None, None, None)
    assert str(stats.total_pnl) == "0.00"
    assert performance.max_drawdown([]) == D("0.00")


@pytest.mark.parametrize(
    ("pnls", "wins", "losses", "breakeven", "win_rate", "profit_factor", "total"),
    [
        (["100.00", "-50.00", "25.00", "-25.00"], 2, 2, 0, "50.00", "1.67", "50.00"),
        (["10.00", "20.00", "30.00"], 3, 0, 0, "100.00", INFINITY, "60.00"),  # no losses → ∞
        (["-10.00", "-5.50"], 0, 2, 0, "0.00", "0.00", "-15.50"),  # no profit → 0
        (["0.00", "0.00"], 0, 0, 2, "0.00", None, "0.00"),  # neither → nothing to compare
        (["0.00", "40.00", "-10.00"], 1, 1, 1, "33.33", "4.00", "30.00"),  # break-even is a trade, not a win
        (["33.33", "-100.00"], 1, 1, 0, "50.00", "0.33", "-66.67"),
    ],
)
def test_summary(pnls, wins, losses, breakeven, win_rate, profit_factor, total):
    stats = performance.summarize("k", [trade(p, minutes=i) for i, p in enumerate(pnls)])
    assert (stats.trades, stats.wins, stats.losses, stats.breakeven) == (len(pnls), wins, losses, breakeven)
    assert stats.win_rate == D(win_rate) and str(stats.win_rate) == win_rate
    expected_pf = profit_factor if profit_factor in (None, INFINITY) else D(profit_factor)
    assert stats.profit_factor == expected_pf
    if isinstance(profit_factor, str):
        assert str(stats.profit_factor) == profit_factor
    assert str(stats.total_pnl) == total


def test_gross_profit_and_loss_are_positive_magnitudes():
    stats = performance.summarize("k", [trade("120.50"), trade("-20.25", minutes=1), trade("-0.25", minutes=2)])
    assert (str(stats.gross_profit), str(stats.gross_loss)) == ("120.50", "20.50")
    assert str(stats.profit_factor) == "5.88"


def test_average_r_uses_only_trades_that_have_one():
    trades = [trade("100", r="1.5"), trade("-50", minutes=1, r="-0.75"), trade("10", minutes=2, r=None)]
    assert str(performance.summarize("k", trades).average_r) == "0.3750"
    assert performance.summarize("k", [trade("10", r=None)]).average_r is None


def test_max_drawdown_counts_the_start_as_a_peak():
    curve = performance.equity_curve([trade("-30.00"), trade("100.00", minutes=1), trade("-70.00", minutes=2),
                                      trade("20.00", minutes=3)])
    assert str(performance.max_drawdown(curve)) == "70.00"
    assert str(performance.max_drawdown(performance.equity_curve([trade("-30.00")]))) == "30.00"


def test_groups_by_engine_and_symbol_largest_total_first():
    trades = [
        trade("100.00", symbol="SPY", engine="A"), trade("-40.00", minutes=1, symbol="QQQ", engine="B"),
        trade("10.00", minutes=2, symbol="QQQ", engine=None), trade("-5.00", minutes=3, symbol="SPY", engine="A"),
    ]
    engines = performance.by_engine(trades)
    assert [(s.key, s.trades, str(s.total_pnl)) for s in engines] == [
        ("A", 2, "95.00"), ("unknown", 1, "10.00"), ("B", 1, "-40.00"),
    ]
    symbols = performance.by_symbol(trades)
    assert [(s.key, s.wins, s.losses, str(s.win_rate), str(s.profit_factor)) for s in symbols] == [
        ("SPY", 1, 1, "50.00", "20.00"), ("QQQ", 1, 1, "50.00", "0.25"),
    ]
    # the groups add up to the whole
    assert sum(s.total_pnl for s in engines) == performance.summarize("all", trades).total_pnl


def test_chart_geometry_spans_the_box_and_keeps_zero_on_it():
    curve = performance.equity_curve([trade("100.00"), trade("-300.00", minutes=1)])  # 0 → 100 → -200
    chart = performance.chart(curve, width=212, height=112, pad=6)
    points = [tuple(map(float, p.split(","))) for p in chart.points.split()]
    assert points == [(6.0, 39.3), (106.0, 6.0), (206.0, 106.0)]  # x by trade number, top = max, bottom = min
    assert chart.zero_y == 39.3
    assert (chart.top_value, chart.bottom_value) == (D("100.00"), D("-200.00"))
    assert [(x, y) for x, y, _ in chart.markers] == points[1:]
    assert (chart.first_at, chart.last_at) == (T0, T0 + timedelta(minutes=1))


def test_chart_of_a_flat_or_empty_curve_does_not_divide_by_zero():
    assert performance.chart([]).points.count(",") == 1
    flat = performance.chart(performance.equity_curve([trade("0.00")]), width=100, height=100, pad=0)
    assert flat.zero_y == 50.0 and (flat.top_value, flat.bottom_value) == (D("1.00"), D("-1.00"))


def test_chart_drops_markers_on_long_curves():
    curve = performance.equity_curve([trade("1.00", minutes=i) for i in range(5)])
    assert len(performance.chart(curve, max_markers=5).markers) == 5
    assert performance.chart(curve, max_markers=4).markers == ()


def test_engine_is_pure():
    probe = ("import sys, positions_app.engines.performance; "
             "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
