"""GET /health: can this process reach what it needs? 200 when the database answers, else 503."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from optionsengine import marketdata
from optionsengine.lib import clock
from optionsengine.lib.jsonresponse import json_response


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check() or {}
        return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2), **detail}
    except Exception as exc:  # a health probe reports failures, it never raises them
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _cache() -> dict:
    if getattr(cache, "breaker_open", False):  # BreakerRedisCache after a Redis failure
        raise RuntimeError("redis breaker open: serving cache misses until Redis answers again")
    key, value = f"health:{uuid.uuid4().hex}", "1"
    cache.set(key, value, 5)
    if cache.get(key) != value:
        raise RuntimeError("cache did not return what was written")
    cache.delete(key)
    return {"backend": "redis" if settings.REDIS_URL else "local-memory"}


def _queue() -> dict:
    detail: dict = {"broker": settings.QUEUE_BROKER}
    if settings.QUEUE_BROKER == "orm":
        from django_q.models import OrmQ

        detail["queued"] = OrmQ.objects.count()
    return detail


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    checks = {"database": _timed(_database), "cache": _timed(_cache), "queue": _timed(_queue)}
    providers = marketdata.health_status()  # breaker states shared through the cache; never raises
    checks["market_data"] = {"ok": providers["status"] != "down", **providers}
    healthy = checks["database"]["ok"]
    body = {
        "status": "ok" if healthy and all(c["ok"] for c in checks.values()) else ("degraded" if healthy else "down"),
        "time": clock.now().isoformat(),
        "mode": "embedded" if settings.EMBEDDED else "scaled",
        "webhook_auth": "enabled" if settings.WEBHOOK_SECRET else "disabled",
        **checks,
    }
    return json_response(body, status=200 if healthy else 503)
