"""The one P&L module: realized, unrealized, percent and R, in Decimal to the cent."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from positions_app.engines import pnl


@pytest.mark.parametrize(
    ("entry", "exit_", "qty", "expected"),
    [
        ("5.00", "6.00", 1, "100.00"),
        ("5.00", "4.00", 2, "-200.00"),
        ("5.03", "4.97", 3, "-18.00"),
        ("1.2345", "1.2350", 1, "0.05"),
        ("1.2345", "1.2346", 1, "0.01"),  # 0.01 × 100 = 1 cent
        ("0.005", "0.01", 1, "0.50"),
        ("2.00", "2.00", 10, "0.00"),
    ],
)
def test_realized_pnl(entry, exit_, qty, expected):
    assert pnl.realized_pnl(D(entry), D(exit_), qty) == D(expected)


def test_realized_pnl_rounds_half_up_to_the_cent():
    assert pnl.realized_pnl(D("1.00000"), D("1.00005"), 1) == D("0.01")  # 0.005 → 0.01
    assert pnl.realized_pnl(D("1.00005"), D("1.00000"), 1) == D("-0.01")


@pytest.mark.parametrize(
    ("entry", "mark", "qty", "expected"),
    [("5.00", "5.50", 2, "100.00"), ("5.00", "4.50", 2, "-100.00"), ("5.03", "5.00", 2, "-6.00")],
)
def test_unrealized_pnl(entry, mark, qty, expected):
    assert pnl.unrealized_pnl(D(entry), D(mark), qty) == D(expected)


@pytest.mark.parametrize(
    ("entry", "mark", "expected"),
    [("5.00", "7.50", "50.0000"), ("5.00", "2.50", "-50.0000"), ("3.00", "4.00", "33.3333"), ("0", "1", "0.0000")],
)
def test_pnl_percent(entry, mark, expected):
    assert pnl.pnl_percent(D(entry), D(mark)) == D(expected)


def test_cost_basis():
    assert pnl.cost_basis(D("5.03"), 3) == D("1509.00")


@pytest.mark.parametrize(
    ("realized", "entry", "qty", "expected"),
    [("150.00", "5.00", 3, "10.0000"), ("-1500.00", "5.00", 3, "-100.0000"), ("10.00", "0", 3, "0.0000")],
)
def test_total_pnl_percent_on_total_cost_basis(realized, entry, qty, expected):
    assert pnl.total_pnl_percent(D(realized), D(entry), qty) == D(expected)


@pytest.mark.parametrize(
    ("realized", "entry", "qty", "stop", "risk", "r"),
    [
        ("250.00", "5.00", 2, "50", "500.00", "0.5000"),  # risk = 1000 × 50 %
        ("-500.00", "5.00", 2, "50", "500.00", "-1.0000"),  # a full stop-out is −1 R
        ("1500.00", "5.00", 2, "50", "500.00", "3.0000"),
        ("100.00", "5.00", 2, "25", "250.00", "0.4000"),
    ],
)
def test_initial_risk_and_r_multiple(realized, entry, qty, stop, risk, r):
    initial = pnl.initial_risk(D(entry), qty, D(stop))
    assert initial == D(risk)
    assert pnl.r_multiple(D(realized), initial) == D(r)


def test_r_multiple_is_none_without_risk():
    assert pnl.r_multiple(D("100.00"), D("0.00")) is None


def test_partials_add_up_to_the_cent():
    """The reconciliation invariant: per-fill cents sum to the position total."""
    fills = [("5.0300", 1), ("5.9700", 2), ("4.1100", 1)]
    total = sum((pnl.realized_pnl(D("5.0300"), D(price), qty) for price, qty in fills), D("0.00"))
    assert total == D("0.00") + D("188.00") - D("92.00")
