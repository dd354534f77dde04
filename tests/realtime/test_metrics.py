"""`GET /metrics`: Prometheus text with request, stage, queue-depth and event series."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from optionsengine.pipeline import events, run_once
from optionsengine.pipeline.stage import StageResult
from tests.realtime.conftest import sample_position_payload

NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)


def _samples(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_requests_are_counted_and_timed_by_view_name_and_status(client):
    before = _samples(client)
    client.get("/health")
    client.get("/no/such/page")
    after = _samples(client)
    key = {"view": "health", "method": "GET", "status": "200"}
    assert _value(after, "optionsengine_http_requests_total", **key) == _value(before, "optionsengine_http_requests_total", **key) + 1
    assert _value(after, "optionsengine_http_requests_total", view="<unmatched>", method="GET", status="404") >= 1
    assert _value(after, "optionsengine_http_request_duration_seconds_count", view="health", status="200") >= 1
    assert _value(after, "optionsengine_http_requests_total", view="metrics", method="GET", status="200") >= 1


def _boom(*, now):
    raise RuntimeError("stage exploded")


def _rejecting(*, now):
    result = StageResult("fake")
    result.count("claimed", 3)
    result.count("rejected:entry_tier_block:LOW_SIGNAL_CONFIDENCE,WEAK_TREND", 2)
    return result


@pytest.mark.django_db
def test_stage_sweeps_are_counted_and_timed(client, monkeypatch):
    monkeypatch.setattr(run_once, "STAGES", [("fake_ok", f"{__name__}:_rejecting"), ("fake_boom", f"{__name__}:_boom")])
    before = _samples(client)
    results = run_once.run_once(now=NOW)
    assert [r.ok for r in results] == [True, False]  # run_once still reports, never raises
    after = _samples(client)

    def grew(name, by=1.0, **labels):
        return _value(after, name, **labels) - _value(before, name, **labels) == by

    assert grew("optionsengine_stage_runs_total", stage="fake_ok", result="ok")
    assert grew("optionsengine_stage_runs_total", stage="fake_boom", result="error")
    assert grew("optionsengine_stage_duration_seconds_count", stage="fake_ok")
    assert grew("optionsengine_stage_duration_seconds_count", stage="fake_boom")
    assert grew("optionsengine_stage_items_total", 3.0, stage="fake_ok", outcome="claimed")
    # reasons with variable parts are cut to a bounded label
    assert grew("optionsengine_stage_items_total", 2.0, stage="fake_ok", outcome="rejected:entry_tier_block")


@pytest.mark.django_db
def test_real_stages_report_through_run_once(client):
    run_once.run_once(now=NOW, only={"orchestrator"})
    samples = _samples(client)
    assert any(name == "optionsengine_stage_runs_total" and ("stage", "orchestrator") in labels
               for name, labels in samples)


@pytest.mark.django_db
def test_queue_depth_reads_the_broker(client, settings):
    from django_q.brokers import get_broker

    depth = _value(_samples(client), "optionsengine_queue_depth", broker=settings.QUEUE_BROKER)
    broker = get_broker()
    broker.enqueue("metrics-test-task")
    try:
        assert _value(_samples(client), "optionsengine_queue_depth", broker=settings.QUEUE_BROKER) == depth + 1
    finally:
        if settings.QUEUE_BROKER != "orm":
            broker.purge_queue()


@pytest.mark.django_db
def test_published_events_are_counted(client, settings):
    settings.REDIS_URL = ""
    before = _value(_samples(client), "optionsengine_events_published_total", type="position_update")
    events.publish(events.POSITION_UPDATE, sample_position_payload())
    after = _value(_samples(client), "optionsengine_events_published_total", type="position_update")
    assert after == before + 1


@pytest.mark.django_db
def test_metrics_and_health_need_no_login(client):
    assert client.get("/metrics").status_code == 200
    health = client.get("/health").json()
    assert {"database", "cache", "queue", "market_data", "webhook_auth"} <= set(health)


def test_multiprocess_mode_adds_up_every_process(tmp_path):
    """Two 'workers' write samples to PROMETHEUS_MULTIPROC_DIR; a third process's /metrics sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "optionsengine.settings_test"}
    worker = (
        "import django; django.setup(); from optionsengine.observability import metrics; "
        "metrics.HTTP_REQUESTS.labels('health', 'GET', '200').inc(2)"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, cwd=os.getcwd())
    scraper = (
        "import django; django.setup(); from optionsengine.observability import metrics; "
        "metrics.QueueDepthCollector.collect = lambda self: iter(()); "
        "print(metrics.MULTIPROCESS); print(metrics.render()[0].decode())"
    )
    out = subprocess.run([sys.executable, "-c", scraper], env=env, check=True, capture_output=True, text=True).stdout
    assert out.startswith("True")
    assert 'optionsengine_http_requests_total{method="GET",status="200",view="health"} 4.0' in out
