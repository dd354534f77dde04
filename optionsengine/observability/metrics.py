"""Prometheus metrics (SPEC §13 `GET /metrics`): HTTP requests, pipeline stages, queue depth, events.

Several gunicorn workers: prometheus_client's multiprocess mode. When the environment variable
`PROMETHEUS_MULTIPROC_DIR` is set (before the process starts — the library reads it at import),
every process writes its samples to files in that directory and `/metrics` aggregates all of them,
so a scrape that lands on any worker sees the whole host (web workers *and* `qcluster` workers,
if they share the directory). Without it each process reports its own counters, which is exact
for a single process (`runserver`, the tests) and a sample for several. The directory must be
emptied before the server starts (see docs/operations.md).

Queue depth is not a stored sample: it is read from the django-q2 broker (ORM table or Redis
list) at scrape time, so it is right whichever process answers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_STAGE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

HTTP_REQUESTS = Counter(
    "optionsengine_http_requests", "HTTP requests answered, by view name, method and status.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "optionsengine_http_request_duration_seconds",
    "Time to produce the response (first byte for streams), by view name and status.",
    ["view", "status"], buckets=_LATENCY_BUCKETS,
)
STAGE_RUNS = Counter(
    "optionsengine_stage_runs", "Pipeline stage sweeps, by stage and result (ok / error).", ["stage", "result"],
)
STAGE_LATENCY = Histogram(
    "optionsengine_stage_duration_seconds", "Duration of one pipeline stage sweep.", ["stage"], buckets=_STAGE_BUCKETS,
)
STAGE_ITEMS = Counter(
    "optionsengine_stage_items", "Rows a stage sweep handled, by outcome (approved, rejected:<reason>, filled …).",
    ["stage", "outcome"],
)
EVENTS_PUBLISHED = Counter(
    "optionsengine_events_published", "Realtime events handed to the transport, by type.", ["type"],
)
EVENTS_FAILED = Counter(
    "optionsengine_events_failed", "Realtime events the transport could not take (e.g. Redis down), by type.", ["type"],
)
EVENTS_DROPPED = Counter(
    "optionsengine_stream_events_dropped", "Events dropped for a stream client that fell too far behind.",
)
STREAM_CONNECTIONS = Gauge(
    "optionsengine_stream_connections", "Open /api/stream connections.", multiprocess_mode="livesum",
)


def _outcome_label(outcome: str) -> str:
    """Keep label values a bounded vocabulary: `rejected:entry_tier_block:RULE,…` → `rejected:entry_tier_block`."""
    return ":".join(outcome.split(":")[:2])[:64]


def observe_stage(name: str, sweep: Callable) -> Callable:
    """Wrap a stage `sweep(*, now) -> StageResult` so every call is counted and timed."""

    @wraps(sweep)
    def observed(*args, **kwargs):
        started = time.perf_counter()
        try:
            result = sweep(*args, **kwargs)
        except Exception:
            STAGE_RUNS.labels(name, "error").inc()
            raise
        finally:
            STAGE_LATENCY.labels(name).observe(time.perf_counter() - started)
        for outcome, n in result.counts.items():
            if n:
                STAGE_ITEMS.labels(name, _outcome_label(str(outcome))).inc(n)
        STAGE_RUNS.labels(name, "error" if result.errors else "ok").inc()
        return result

    return observed


class QueueDepthCollector:
    """`optionsengine_queue_depth{broker}`: tasks waiting in the django-q2 broker, read per scrape."""

    def collect(self):
        from django.conf import settings
        from django_q.brokers import get_broker

        family = GaugeMetricFamily(
            "optionsengine_queue_depth", "Tasks waiting in the django-q2 broker (ORM table or Redis list).",
            labels=["broker"],
        )
        try:
            family.add_metric([settings.QUEUE_BROKER], get_broker().queue_size() or 0)
        except Exception as exc:  # a scrape must not fail because the broker does
            logger.warning("queue depth unavailable: %s: %s", type(exc).__name__, exc)
            return
        yield family


def render() -> tuple[bytes, str]:
    """The exposition text of this host (multiprocess) or process, plus the live queue gauge."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    live = CollectorRegistry(auto_describe=False)
    live.register(QueueDepthCollector())
    return generate_latest(registry) + generate_latest(live), CONTENT_TYPE_LATEST


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /metrics`, unauthenticated like `/health` (counts and latencies only, no trading data)."""
    body, content_type = render()
    return HttpResponse(body, content_type=content_type)
