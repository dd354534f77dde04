"""GET /api/bias/adaptive/history, /status and POST /api/bias/adaptive/toggle."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bias_app.models import BiasAdaptiveConfigHistory, BiasConfig
from bias_app.selectors import get_bias_config
from tests.api.builders import NOW

pytestmark = pytest.mark.django_db


def history(parameter, previous, new, *, dry_run=False, minutes=0):
    return BiasAdaptiveConfigHistory.objects.create(
        config_key="risk", parameter_name=parameter, previous_value=previous, new_value=new, reason="win rate low",
        rolling_metrics={"tradeCount": 12}, dry_run=dry_run, created_at=NOW - timedelta(minutes=minutes))


def test_history_is_paginated_newest_first_and_filterable(api):
    history("rangeBreakoutMultiplier", 0.7, 0.65, minutes=30)
    history("latePhaseNegativeMultiplier", 0.75, 0.8, dry_run=True, minutes=20)
    newest = history("rangeBreakoutMultiplier", 0.65, 0.6, minutes=10)
    body = api.get("/api/bias/adaptive/history").json()
    assert body["count"] == 3 and body["results"][0]["id"] == str(newest.id)
    assert body["results"][0]["previous_value"] == 0.65 and body["results"][0]["rolling_metrics"] == {"tradeCount": 12}
    assert api.get("/api/bias/adaptive/history?dry_run=true").json()["count"] == 1
    assert api.get("/api/bias/adaptive/history?parameter=rangeBreakoutMultiplier").json()["count"] == 2
    assert len(api.get("/api/bias/adaptive/history?limit=1").json()["results"]) == 1


def test_status_reports_enabled_parameters_and_rolling_stats(api):
    history("rangeBreakoutMultiplier", 0.7, 0.65, minutes=10)
    body = api.get("/api/bias/adaptive/status").json()
    assert body["adaptiveEnabled"] is True and body["manualRunAvailable"] is True
    assert body["tradeCount"] == 0 and body["rollingWinRate"] is None
    assert body["parameters"]["macroDriftThreshold"] == 0.18
    assert body["lastAdaptiveUpdate"].startswith("2026-03-13T14:20")


def test_toggle_flips_and_sets_adaptive_enabled_through_the_config_service(api):
    BiasConfig.objects.filter(config_key="adaptive").update(config_json={"enabled": True, "lastRunDate": "2026-03-12"})
    assert api.post("/api/bias/adaptive/toggle", {}, format="json").json() == {"enabled": False, "previous": True}
    stored = BiasConfig.objects.get(config_key="adaptive").config_json
    assert stored == {"enabled": False, "lastRunDate": "2026-03-12"}  # the tuner's keys are kept
    assert get_bias_config("adaptive")["enabled"] is False  # cached config dropped on commit
    assert api.get("/api/bias/adaptive/status").json()["adaptiveEnabled"] is False
    assert api.post("/api/bias/adaptive/toggle", {}, format="json").json() == {"enabled": True, "previous": False}
    assert api.post("/api/bias/adaptive/toggle", {"enabled": True}, format="json").json() == {
        "enabled": True, "previous": True}


def test_toggle_refuses_bad_bodies_and_anonymous_callers(api, client):
    assert api.post("/api/bias/adaptive/toggle", {"enabled": "sometimes"}, format="json").status_code == 400
    assert api.post("/api/bias/adaptive/toggle", [1, 2], format="json").status_code == 400
    assert client.post("/api/bias/adaptive/toggle", {}, content_type="application/json").status_code == 401
    assert Decimal(str(get_bias_config("adaptive")["macroDriftThreshold"])) == Decimal("0.18")
