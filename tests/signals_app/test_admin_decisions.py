"""Operators read a signal's whole decision trail and the A/B decision tables in the admin (SPEC §13)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from optionsengine.lib import clock
from optionsengine.pipeline import decision_inputs, orchestrate
from signals_app.engines import reasons
from signals_app.models import AgentDecision, DecisionRecommendation, Experiment, Signal
from tests.pipeline.builders import NOW, make_signal, seed_bias

pytestmark = pytest.mark.django_db

DECISION_TABLES = ("experiment", "decisionrecommendation", "agentdecision")


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "pw"))
    return client


def decide(*signals: Signal) -> None:
    with clock.override(NOW):
        orchestrate.sweep(now=NOW, signal_ids=[s.pk for s in signals])


@pytest.fixture
def decided():
    """One signal decided by both engines and one rejected as stale before any gate ran."""
    with clock.override(NOW):
        seed_bias("SPY", "BULLISH")
    signal = make_signal()
    stale = make_signal(symbol="QQQ", timestamp=NOW - timedelta(minutes=31))
    decide(signal, stale)
    signal.refresh_from_db()
    stale.refresh_from_db()
    assert signal.processed and Experiment.objects.filter(signal=signal).exists()
    assert stale.rejection_reason == reasons.SIGNAL_STALE
    return signal, stale


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_every_changelist_renders_with_its_filters_and_search(staff_client, decided):
    signal, stale = decided
    urls = [
        f"/admin/signals_app/signal/?status__exact=rejected&q={stale.pk}",
        "/admin/signals_app/experiment/?variant__exact=A&q=SPY",
        f"/admin/signals_app/experiment/?q={signal.pk}",
        "/admin/signals_app/decisionrecommendation/?engine__exact=B&is_shadow__exact=1&decision__exact=hold&symbol=SPY",
        f"/admin/signals_app/decisionrecommendation/?q={signal.pk}",
        "/admin/signals_app/agentdecision/?engine__exact=B&agent_name=meta_decision&block__exact=1",
        f"/admin/signals_app/agentdecision/?q={signal.pk}&bias__exact=neutral",
    ]
    for url in urls:
        page(staff_client, url)
    experiments = page(staff_client, "/admin/signals_app/experiment/")
    assert "ENGINE_A_PRIMARY" in experiments and f"/admin/signals_app/signal/{signal.pk}/change/" in experiments
    recommendations = page(staff_client, "/admin/signals_app/decisionrecommendation/")
    for rec in DecisionRecommendation.objects.filter(signal=signal):
        assert rec.reason is None or rec.reason in recommendations
    agents = page(staff_client, "/admin/signals_app/agentdecision/")
    assert "meta_decision" in agents


def test_signal_page_shows_the_whole_decision_trail(staff_client, decided):
    signal, _ = decided
    html = page(staff_client, f"/admin/signals_app/signal/{signal.pk}/change/")
    assert signal.status in html
    if signal.rejection_reason:
        assert signal.rejection_reason in html
    trail = signal.refactored.risk_check_result
    assert trail["detail"] in html
    for gate in trail["gates"]:
        assert f"<td>{gate['name']}</td>" in html
    assert "<th>Engine A</th>" in html and "<th>Engine B</th>" in html
    for rec in DecisionRecommendation.objects.filter(signal=signal):
        assert rec.reason is None or rec.reason in html
    for name in AgentDecision.objects.filter(signal=signal).values_list("agent_name", flat=True):
        assert f"<td>{name}</td>" in html
    assert "Engine B votes" in html and "ENGINE_A_PRIMARY" in html
    assert "Sizing" in html and "Execution policy" in html
    assert "&quot;symbol&quot;: &quot;SPY&quot;" in html  # the raw payload viewer is still there


def test_stale_signal_page_shows_reason_and_detail_without_gates(staff_client, decided):
    _, stale = decided
    html = page(staff_client, f"/admin/signals_app/signal/{stale.pk}/change/")
    assert reasons.SIGNAL_STALE in html
    assert "min old" in html
    assert "No gate ran" in html and "No engine ran" in html


def test_approved_signal_page_shows_the_chosen_contract(staff_client):
    with clock.override(NOW):
        seed_bias("SPY", "BULLISH")
    signal = make_signal(raw_payload={"symbol": "SPY", "direction": "long", "timeframe": "15m", "confidence": 90})
    real = decision_inputs.market  # IV rank mid-band so Engine A's volatility rule passes (as in test_orchestrate)
    with mock.patch.object(decision_inputs, "market",
                           lambda facts, now: dataclasses.replace(real(facts, now), iv_rank=Decimal("50"))):
        decide(signal)
    signal.refresh_from_db()
    assert signal.status == Signal.Status.APPROVED
    rec = DecisionRecommendation.objects.get(signal=signal, engine="A")
    html = page(staff_client, f"/admin/signals_app/signal/{signal.pk}/change/")
    assert "<b>approved</b>" in html
    assert f"<td>{rec.strike}</td>" in html and f"<td>{rec.entry_price}</td>" in html
    assert f"<td>{rec.quantity}</td>" in html


def test_experiment_page_shows_engines_side_by_side_and_votes(staff_client, decided):
    signal, _ = decided
    experiment = Experiment.objects.get(signal=signal)
    html = page(staff_client, f"/admin/signals_app/experiment/{experiment.pk}/change/")
    assert "<th>Engine A</th>" in html and "<th>Engine B</th>" in html
    assert "executed" in html and "shadow" in html
    assert experiment.assignment_hash in html and "ENGINE_A_PRIMARY" in html
    for name in AgentDecision.objects.filter(experiment=experiment).values_list("agent_name", flat=True):
        assert f"<td>{name}</td>" in html


def test_recommendation_and_agent_pages_render(staff_client, decided):
    signal, _ = decided
    rec = DecisionRecommendation.objects.get(signal=signal, engine="B")
    html = page(staff_client, f"/admin/signals_app/decisionrecommendation/{rec.pk}/change/")
    assert rec.decision in html and f"/admin/signals_app/experiment/{rec.experiment_id}/change/" in html
    vote = AgentDecision.objects.filter(signal=signal, engine="B").first()
    html = page(staff_client, f"/admin/signals_app/agentdecision/{vote.pk}/change/")
    assert vote.agent_name in html


def test_stored_values_are_escaped_in_the_trail(staff_client, decided):
    signal, _ = decided
    AgentDecision.objects.filter(signal=signal, agent_name="meta_decision").update(reasons=["<script>x</script>"])
    html = page(staff_client, f"/admin/signals_app/signal/{signal.pk}/change/")
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


@pytest.mark.parametrize("model", ("signal", *DECISION_TABLES))
def test_pipeline_rows_cannot_be_added_changed_or_deleted(staff_client, decided, model):
    signal, _ = decided
    experiment = Experiment.objects.get(signal=signal)
    pk = {
        "signal": signal.pk, "experiment": experiment.pk,
        "decisionrecommendation": DecisionRecommendation.objects.filter(signal=signal).first().pk,
        "agentdecision": AgentDecision.objects.filter(signal=signal).first().pk,
    }[model]
    assert staff_client.get(f"/admin/signals_app/{model}/add/").status_code == 403
    assert staff_client.get(f"/admin/signals_app/{model}/{pk}/delete/").status_code == 403
    assert staff_client.post(f"/admin/signals_app/{model}/{pk}/change/", {}).status_code == 403
    assert staff_client.post(f"/admin/signals_app/{model}/{pk}/delete/", {"post": "yes"}).status_code == 403


@pytest.mark.parametrize("model", ("signal", *DECISION_TABLES))
def test_changelists_do_not_query_per_row(staff_client, decided, model):
    url = f"/admin/signals_app/{model}/"
    staff_client.get(url)  # warm the session and content-type caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url).status_code == 200
        return len(ctx)

    before = queries()
    decide(*(make_signal(symbol="SPY", direction="long", timeframe=tf) for tf in ("5m", "1h")))
    assert Experiment.objects.count() == 3
    assert queries() == before


def test_signal_page_query_count_does_not_grow_with_votes(staff_client, decided):
    signal, _ = decided
    url = f"/admin/signals_app/signal/{signal.pk}/change/"
    staff_client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        page(staff_client, url)
    assert AgentDecision.objects.filter(signal=signal).count() > 5
    assert len(ctx) <= 15, [q["sql"] for q in ctx.captured_queries]
