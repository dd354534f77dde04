"""The OpenAPI schema (drf-spectacular) generates without warnings, validates, and documents the
operator endpoints; the docs page is served from the sidecar (offline)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generation_validates_and_fails_on_no_warning(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/signals:", "/api/signals/{signal_id}:", "/api/orders:", "/api/trades:", "/api/positions:",
                 "/api/monitoring/status:", "/api/trace/{signal_id}:", "/api/bias/adaptive/history:",
                 "/api/bias/adaptive/status:", "/api/bias/adaptive/toggle:"):
        assert path in text
    assert "bearerAuth" in text and "tokenAuth" in text


def test_schema_endpoint_and_docs_page(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    body = schema.json()
    signals = body["paths"]["/api/signals"]["get"]
    assert {p["name"] for p in signals["parameters"]} >= {"status", "symbol", "reason", "is_test", "since", "until",
                                                          "limit", "offset"}
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html and "cdn." not in html
