"""`/ops/pnl`: what a staff member sees, what others get, and the one-query selector."""

from __future__ import annotations

from decimal import Decimal

import pytest

from positions_app.pnl_selectors import list_closed_trades

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.pnl.urls")]


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get("/ops/pnl")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/") and "next=/ops/pnl" in response["Location"]


def test_non_staff_user_is_sent_to_the_login_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="trader", password="x"))
    assert client.get("/ops/pnl").status_code == 302


def test_staff_sees_curve_summary_and_tables(client, staff_user, closed_positions):
    client.force_login(staff_user)
    response = client.get("/ops/pnl")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg id="equity-curve"' in html and "<polyline" in html
    assert html.count("<circle") == 4  # one marker per non-test closed trade
    assert 'id="by-engine"' in html and 'id="by-symbol"' in html
    # totals: 250 − 100 + 50 − 75 = 125; 2 wins of 4; PF = 300 / 175
    assert "$125.00" in html and "50.00%" in html and "1.71" in html
    # per engine: A = 2 trades +300 (no loss → ∞), B = 2 trades −175
    assert "Engine A (rules)" in html and "$300.00" in html and "∞" in html
    assert "−$175.00" in html
    # average R over trades that have one: (1.25 − 0.5 − 0.375) / 3
    assert "0.1250" in html
    # test traffic and open positions are not on the page
    assert "IWM" not in html and "AAPL" not in html and "9,999.00" not in html
    assert 'href="?include_test=1"' in html


def test_include_test_adds_test_traffic(client, staff_user, closed_positions):
    client.force_login(staff_user)
    html = client.get("/ops/pnl?include_test=1").content.decode()
    assert "IWM" in html and "$10,124.00" in html and "test traffic included" in html.lower()


def test_empty_page(client, staff_user):
    client.force_login(staff_user)
    html = client.get("/ops/pnl").content.decode()
    assert "No closed positions yet" in html and "<svg" not in html


def test_selector_reads_closed_positions_in_one_query(closed_positions, django_assert_num_queries):
    with django_assert_num_queries(1):
        trades = list_closed_trades()
    assert [t.realized_pnl for t in trades] == [Decimal("250.00"), Decimal("-100.00"), Decimal("50.00"), Decimal("-75.00")]
    assert [t.r_multiple for t in trades] == [Decimal("1.2500"), Decimal("-0.5000"), None, Decimal("-0.3750")]
    assert {t.engine for t in trades} == {"A", "B"}
    with django_assert_num_queries(1):
        assert len(list_closed_trades(include_test=True)) == 5
