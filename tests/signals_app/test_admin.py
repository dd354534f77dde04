"""Operators can read webhook events and signals in the admin, filter them, and never edit them."""

from __future__ import annotations

import orjson
import pytest

from signals_app.models import Signal, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def one_alert(client):
    payload = {"ticker": "SPY", "interval": "5", "direction": "long", "note": "<script>x</script>"}
    client.post("/webhook", data=orjson.dumps(payload), content_type="application/json")
    return Signal.objects.get(), WebhookEvent.objects.get()


def test_changelists_render_with_filters(staff_client, one_alert):
    for url in ["/admin/signals_app/signal/?status__exact=pending&is_test__exact=0&symbol=SPY", "/admin/signals_app/webhookevent/?status__exact=accepted&q=SPY"]:
        response = staff_client.get(url)
        assert response.status_code == 200
        assert b"SPY" in response.content


def test_change_page_shows_the_payload_pretty_printed_and_escaped(staff_client, one_alert):
    signal, event = one_alert
    response = staff_client.get(f"/admin/signals_app/webhookevent/{event.pk}/change/")
    assert response.status_code == 200
    assert b"&quot;ticker&quot;: &quot;SPY&quot;" in response.content
    assert b"<script>x</script>" not in response.content


def test_pipeline_rows_cannot_be_added_or_deleted(staff_client, one_alert):
    signal, _ = one_alert
    assert staff_client.get("/admin/signals_app/signal/add/").status_code == 403
    assert staff_client.get(f"/admin/signals_app/signal/{signal.pk}/delete/").status_code == 403
