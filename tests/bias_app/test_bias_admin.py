"""The bias admin: read-only pipeline data, editable config that takes effect on save."""

from __future__ import annotations

import json

import pytest

from bias_app.models import BiasAdaptiveConfigHistory, BiasConfig, BiasStateCurrent, BiasStateHistory
from bias_app.selectors import get_gating_config
from optionsengine.lib import clock
from tests.bias_app.builders import ingest, v3_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("now")]


@pytest.fixture
def bias_rows():
    ingest(v3_payload({"macro.state.macro_class": "MACRO_TREND_DOWN"}))
    BiasAdaptiveConfigHistory.objects.create(
        config_key="risk", parameter_name="rangeBreakoutMultiplier", previous_value=0.7, new_value=0.65,
        reason="breakout win rate in range 0.30", rolling_metrics={"tradeCount": 20}, created_at=clock.now(),
    )


@pytest.mark.usefixtures("bias_rows")
@pytest.mark.parametrize("model", ["biasstatecurrent", "biasstatehistory", "biasconfig", "biasadaptiveconfighistory", "biastradeperformance"])
def test_every_bias_changelist_renders(admin_client, model):
    assert admin_client.get(f"/admin/bias_app/{model}/").status_code == 200


@pytest.mark.usefixtures("bias_rows")
def test_current_states_show_bias_suppressions_staleness_and_age(admin_client):
    page = admin_client.get("/admin/bias_app/biasstatecurrent/").content.decode()
    cells = {
        "bias": "BULLISH", "score": "62", "regime": "TREND", "macro_class": "MACRO_TREND_DOWN",
        "suppressions": "long", "age": "1.0", "confidence": "0.71 (0.426)",
    }
    for column, value in cells.items():
        assert f'<td class="field-{column}">{value}</td>' in page
    assert 'class="field-stale"><img src="/static/admin/img/icon-no.svg" alt="False"' in page
    detail = admin_client.get(f"/admin/bias_app/biasstatecurrent/{BiasStateCurrent.objects.get().pk}/change/")
    assert detail.status_code == 200 and "&quot;suppressLong&quot;: true" in detail.content.decode()


@pytest.mark.usefixtures("bias_rows")
def test_history_and_adaptive_history_are_read_only(admin_client):
    history = BiasStateHistory.objects.get()
    page = admin_client.get(f"/admin/bias_app/biasstatehistory/{history.pk}/change/").content.decode()
    assert "&quot;bias&quot;: &quot;BULLISH&quot;" in page  # the pretty payload viewer
    assert 'name="_save"' not in page
    assert admin_client.post(f"/admin/bias_app/biasstatehistory/{history.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/bias_app/biasstatehistory/add/").status_code == 403
    assert "0.7 → 0.65" in admin_client.get("/admin/bias_app/biasadaptiveconfighistory/").content.decode()


def test_saving_bias_config_in_the_admin_takes_effect_at_once(admin_client, django_capture_on_commit_callbacks):
    assert get_gating_config().chop_suppression_threshold == 75  # cached now
    row = BiasConfig.objects.get(config_key="gating")
    edited = {**row.config_json, "chopSuppressionThreshold": 60}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/bias_app/biasconfig/{row.pk}/change/", {"config_json": json.dumps(edited)})
    assert response.status_code == 302
    assert get_gating_config().chop_suppression_threshold == 60
    row.refresh_from_db()
    assert row.updated_at == clock.now()


def test_the_admin_refuses_a_config_the_engine_could_not_use(admin_client):
    row = BiasConfig.objects.get(config_key="staleness")
    response = admin_client.post(
        f"/admin/bias_app/biasconfig/{row.pk}/change/", {"config_json": json.dumps({"behavior": "panic"})}
    )
    assert response.status_code == 200
    assert "staleness.behavior must be one of block, reduce_risk" in response.content.decode()
    row.refresh_from_db()
    assert row.config_json["behavior"] == "block"
