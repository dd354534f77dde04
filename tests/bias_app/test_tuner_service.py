"""Adaptive tuner service, command, API and admin action on the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bias_app.models import BiasAdaptiveConfigHistory, BiasConfig, BiasTradePerformance
from bias_app.selectors import get_bias_config
from optionsengine.lib import clock
from optionsengine.pipeline.tune import run_adaptive_tuner
from tests.positions_app.builders import make_position

pytestmark = pytest.mark.django_db
AFTER_CLOSE = datetime(2026, 3, 13, 21, 0, tzinfo=UTC)  # Friday 17:00 New York


def performance(n=10, *, pnl="3", acceleration="20", source="live", codes=(), closed=AFTER_CLOSE - timedelta(hours=2)):
    for i in range(n):
        position = make_position(strike=str(400 + BiasTradePerformance.objects.count()))
        BiasTradePerformance.objects.create(
            position=position, symbol="SPY", direction="long", pnl_percent=D(pnl), pnl_r=D(pnl) / 50,
            realized_pnl=D("10"), entry_acceleration=D(acceleration), exit_reason_codes=list(codes), source=source,
            closed_at=closed - timedelta(minutes=i), created_at=closed - timedelta(days=1),
        )


def stored(key: str) -> dict:
    return BiasConfig.objects.get(config_key=key).config_json


def run(**options):
    with clock.override(AFTER_CLOSE):
        return run_adaptive_tuner(now=AFTER_CLOSE, **options)


def test_dry_run_records_history_and_changes_nothing(django_capture_on_commit_callbacks):
    performance()
    with django_capture_on_commit_callbacks(execute=True):
        result = run(dry_run=True)
    assert (result.status, result.dry_run) == ("dry_run", True)
    [row] = BiasAdaptiveConfigHistory.objects.all()
    assert (row.config_key, row.parameter_name, row.previous_value, row.new_value, row.dry_run) == (
        "risk", "stateStrengthUpMultiplier", 1.1, 1.15, True
    )
    assert row.rolling_metrics["tradeCount"] == 10
    assert get_bias_config("risk")["stateStrengthUpMultiplier"] == 1.1
    adaptive = stored("adaptive")
    assert adaptive["lastDryRunDate"] == "2026-03-13" and "lastRunDate" not in adaptive
    assert adaptive["lastRunSummary"]["parametersChanged"][0]["newValue"] == 1.15


def test_apply_writes_config_through_the_service_and_persists_the_run_date(django_capture_on_commit_callbacks):
    performance()
    assert get_bias_config("risk")["stateStrengthUpMultiplier"] == 1.1  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        result = run()
    assert result.status == "applied"
    assert get_bias_config("risk")["stateStrengthUpMultiplier"] == 1.15  # cache dropped on commit
    assert stored("adaptive")["lastRunDate"] == "2026-03-13"
    assert BiasAdaptiveConfigHistory.objects.get().dry_run is False
    # Same New York day: skipped, even in a new process (the date is in the database).
    assert run().status == "skipped_already_ran"
    forced = run(force=True)
    assert (forced.status, [c.new for c in forced.changes]) == ("applied", [1.2])
    assert BiasAdaptiveConfigHistory.objects.count() == 2


def test_macro_drift_threshold_is_tuned_and_recorded(django_capture_on_commit_callbacks):
    performance(10, pnl="-1", acceleration="5", codes=["macro_drift_exit_pressure"])
    with django_capture_on_commit_callbacks(execute=True):
        run()
    assert get_bias_config("adaptive")["macroDriftThreshold"] == 0.198
    row = BiasAdaptiveConfigHistory.objects.get(parameter_name="macroDriftThreshold")
    assert (row.config_key, row.previous_value, row.new_value) == ("adaptive", 0.18, 0.198)


def test_e2e_test_mode_and_disabled_tuning_force_dry_runs(settings):
    performance()
    settings.E2E_TEST_MODE = True
    assert run().dry_run is True
    settings.E2E_TEST_MODE = False
    BiasConfig.objects.filter(config_key="adaptive").update(config_json={"enabled": False})
    assert run().dry_run is True
    assert stored("risk").get("stateStrengthUpMultiplier", 1.1) == 1.1


def test_only_live_trades_feed_the_tuner_and_ten_are_needed():
    performance(9)
    performance(5, source="simulation")
    result = run()
    assert (result.status, result.metrics["tradeCount"]) == ("insufficient_trades", 9)
    assert BiasAdaptiveConfigHistory.objects.count() == 0


def test_the_command_prints_the_run(capsys):
    performance()
    with clock.override(AFTER_CLOSE):
        call_command("run_adaptive_tuner", "--dry-run")
    out = capsys.readouterr().out
    assert "dry_run (dry run)" in out and "stateStrengthUpMultiplier: 1.1 → 1.15" in out


def test_the_api_runs_the_tuner():
    performance()
    user = get_user_model().objects.create_user("desk", password="x")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert APIClient().post("/api/bias/run-adaptive", {}, format="json").status_code == 401
    with clock.override(AFTER_CLOSE):
        body = api.post("/api/bias/run-adaptive", {"dryRun": True}, format="json").json()
    assert (body["status"], body["dryRun"], body["parametersChanged"][0]["key"]) == ("dry_run", True, "stateStrengthUpMultiplier")
    assert api.post("/api/bias/run-adaptive", {"dryRun": "maybe"}, format="json").status_code == 400


def test_the_admin_action_runs_the_tuner(admin_client):
    performance()
    config = BiasConfig.objects.get(config_key="adaptive")
    with clock.override(AFTER_CLOSE):
        response = admin_client.post(
            "/admin/bias_app/biasconfig/",
            {"action": "run_adaptive_tuner_dry", "_selected_action": [config.pk]}, follow=True,
        )
    assert "Adaptive tuner: dry_run (dry run)" in response.content.decode()
    assert BiasAdaptiveConfigHistory.objects.get().dry_run is True
