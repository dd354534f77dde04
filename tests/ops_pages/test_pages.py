"""/ops/ (pipeline monitor) and /ops/trace/<id>: staff only, the monitor's tables, the whole trace
with reason codes and P&L, constant queries; the signal admin links to the trace."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from optionsengine.lib import clock
from tests.api.builders import NOW, lifecycle, rejected, webhook_signal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now():
    with clock.override(NOW):
        yield


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_user("ops", password="pw-for-tests", is_staff=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/ops/", "/ops/trace/00000000-0000-0000-0000-000000000000"])
def test_anonymous_users_are_sent_to_the_admin_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_users_are_sent_to_the_login_too(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("trader", password="pw-for-tests"))
    assert client.get("/ops/").status_code == 302


def test_the_monitor_shows_funnel_rejections_stages_and_providers(staff):
    lifecycle(upto="closed")
    blocked = rejected("entry_tier_block:VOLATILITY_MISMATCH", "IV rank 92")
    rejected("mtf_bias_missing", "no bias")
    response = staff.get("/ops/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Funnel, last 24 h", "entry_tier_block:VOLATILITY_MISMATCH", "mtf_bias_missing", "Stuck stage",
                 "orchestrator", "order_creator", "executor", "Last activity", "simulated", "150.00"):
        assert text in html, text
    assert reverse("ops-trace", args=[blocked.signal_id]) in html
    assert reverse("ops-pnl") in html  # the layout's links resolve


def test_the_monitor_takes_a_constant_number_of_queries(staff):
    lifecycle(upto="closed")
    with CaptureQueriesContext(connection) as few:
        assert staff.get("/ops/?traffic=production&window_hours=72").status_code == 200
    for symbol in ("QQQ", "IWM", "TSLA"):
        lifecycle(upto="closing", symbol=symbol)
        rejected("entry_tier_block:REGIME_CONFLICT", "regime")
        webhook_signal(symbol=symbol, is_test=True)
    with CaptureQueriesContext(connection) as many:
        assert staff.get("/ops/?traffic=production&window_hours=72").status_code == 200
    assert len(many) == len(few)


def test_bad_monitor_parameters_fall_back_to_defaults(staff):
    assert staff.get("/ops/?traffic=nonsense&window_hours=abc").status_code == 200


def test_the_trace_page_shows_every_gate_vote_order_fill_exit_and_the_pnl(staff):
    rows = lifecycle(upto="closed")
    response = staff.get(f"/ops/trace/{rows.signal.signal_id}")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("closed: +150.00 (profit_target)", "mtf_bias_missing", "gamma_exposure_limit",  # gates
                 "Engine A", "Engine B", "quorum_not_met_need_3_got_2",  # engines side by side
                 "meta_decision", "technical",  # agent votes
                 "SPY-20260410-C-602", "2.0000",  # entry order and fill
                 "partial_profit_rung_1", "profit_target", "trailing_stop", "rung_1",  # exits, codes, partials
                 "50.00", "100.00", "150.00", "37.50",  # P&L per fill, total, performance
                 "[REDACTED]"):
        assert text in html, text


def test_the_trace_page_of_a_rejection_shows_the_reason_code(staff):
    signal = rejected("entry_tier_block:VOLATILITY_MISMATCH", "IV rank 92 outside 20–80")
    html = staff.get(f"/ops/trace/{signal.signal_id}").content.decode()
    assert "rejected by the orchestrator: entry_tier_block:VOLATILITY_MISMATCH — IV rank 92 outside 20–80" in html
    assert "No entry order." in html


def test_the_trace_page_takes_a_constant_number_of_queries(staff):
    small = lifecycle(upto="closed")
    with CaptureQueriesContext(connection) as few:
        staff.get(f"/ops/trace/{small.signal.signal_id}")
    big = lifecycle(upto="closed", symbol="QQQ")
    for _ in range(3):
        webhook_signal(symbol="QQQ")
    with CaptureQueriesContext(connection) as many:
        staff.get(f"/ops/trace/{big.signal.signal_id}")
    assert len(many) == len(few)


@pytest.mark.parametrize("signal_id", ["00000000-0000-0000-0000-000000000000", "garbage"])
def test_an_unknown_signal_is_404(staff, signal_id):
    assert staff.get(f"/ops/trace/{signal_id}").status_code == 404


def test_the_signal_admin_links_to_the_trace(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pw-for-tests")
    client.force_login(admin)
    rows = lifecycle(upto="approved")
    html = client.get(reverse("admin:signals_app_signal_change", args=[rows.signal.signal_id])).content.decode()
    assert reverse("ops-trace", args=[rows.signal.signal_id]) in html
