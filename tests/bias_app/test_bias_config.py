"""The one `bias_config` accessor: defaults under the stored row, short cache, invalidation on save."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from bias_app.cache import CONFIG_TTL_SECONDS
from bias_app.defaults import BIAS_CONFIG_DEFAULTS
from bias_app.engines.config import merge_config
from bias_app.models import BiasConfig
from bias_app.selectors import get_bias_config, get_gating_config, get_staleness_config
from bias_app.services.config import InvalidBiasConfig, update_bias_config


@pytest.mark.parametrize(
    ("key", "stored", "merged_changes", "problem_count"),
    [
        ("gating", None, {}, 0),
        ("gating", {}, {}, 0),
        ("gating", {"chopSuppressionThreshold": 80}, {"chopSuppressionThreshold": 80}, 0),
        ("staleness", {"behavior": "reduce_risk"}, {"behavior": "reduce_risk"}, 0),
        ("adaptive", {"lastRunSummary": {"tunerUpdated": False}}, {"lastRunSummary": {"tunerUpdated": False}}, 0),
        # wrong types fall back to the default, one problem each
        ("gating", {"chopSuppressionThreshold": "80"}, {}, 1),
        ("gating", {"reclaimBoost": True}, {}, 1),
        ("gating", {"reclaimBoost": -0.1}, {}, 1),
        ("gating", {"macroSuppressLongClasses": "MACRO_TREND_DOWN"}, {}, 1),
        ("staleness", {"behavior": "panic"}, {}, 1),
        ("adaptive", {"enabled": "yes"}, {}, 1),
        ("risk", ["not", "an", "object"], {}, 1),
    ],
)
def test_defaults_are_merged_under_the_stored_row_key_by_key(key, stored, merged_changes, problem_count):
    merged, problems = merge_config(key, stored)
    assert merged == {**BIAS_CONFIG_DEFAULTS[key], **merged_changes}
    assert len(problems) == problem_count


@pytest.mark.django_db
def test_the_seeded_rows_give_the_spec_defaults():
    assert get_bias_config("staleness") == {
        "behavior": "block", "riskMultiplier": 0.7, "rthThresholdMinutes": 10, "dailyThresholdMinutes": 60,
    }
    assert get_gating_config().chop_suppression_threshold == 75
    assert set(BiasConfig.objects.values_list("config_key", flat=True)) == {"gating", "staleness", "risk", "adaptive"}


@pytest.mark.django_db
def test_a_missing_row_still_has_the_defaults():
    BiasConfig.objects.filter(config_key="risk").delete()
    assert get_bias_config("risk") == BIAS_CONFIG_DEFAULTS["risk"]


@pytest.mark.django_db
def test_saving_through_the_service_is_seen_immediately_after_commit(django_capture_on_commit_callbacks):
    assert get_staleness_config().behavior == "block"  # now cached
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        update_bias_config(key="staleness", values={"behavior": "reduce_risk", "riskMultiplier": 0.5})
    config = get_staleness_config()
    assert (config.behavior, str(config.risk_multiplier), config.rth_threshold_minutes) == ("reduce_risk", "0.5", 10)


@pytest.mark.django_db
def test_the_service_refuses_values_the_accessor_would_ignore():
    with pytest.raises(InvalidBiasConfig, match="staleness.behavior"), transaction.atomic():
        update_bias_config(key="staleness", values={"behavior": "panic"})
    assert BiasConfig.objects.get(config_key="staleness").config_json["behavior"] == "block"


@pytest.mark.django_db
def test_an_edit_made_by_another_process_is_seen_once_the_cache_entry_expires(settings, monkeypatch):
    # Per-process local cache: nothing can invalidate it from outside, the TTL bounds the delay.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ttl-test"}}
    assert CONFIG_TTL_SECONDS <= 60
    assert get_gating_config().chop_suppression_threshold == 75
    BiasConfig.objects.filter(config_key="gating").update(config_json={"chopSuppressionThreshold": 50})
    assert get_gating_config().chop_suppression_threshold == 75
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start + CONFIG_TTL_SECONDS + 1)
    assert get_gating_config().chop_suppression_threshold == 50
