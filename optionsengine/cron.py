"""`POST /api/cron/process-queue` — the cron alternative to running a qcluster (SPEC §12).

An external scheduler (a system cron with curl, a hosting platform's cron) calls it every minute
or two; it runs orchestrator → order creator → paper executor → position refresher → exit monitor
once, each under its sweep lease (so it never overlaps a worker's sweep of the same stage), and
answers per-stage counts and errors.

Auth: `Authorization: Bearer <CRON_SECRET>` or `X-Cron-Secret: <CRON_SECRET>`, compared in
constant time. 503 while CRON_SECRET is unset (the endpoint is off, not open); 401 otherwise.
`ENABLE_CRON_PROCESSING=false` (workers are running) → 200 `{"ok": true, "skip": true}`.
"""

from __future__ import annotations

import hmac
import logging
import time

from django.conf import settings
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from optionsengine.lib import clock

logger = logging.getLogger(__name__)


def presented_secret(request) -> str | None:
    """The secret from `Authorization: Bearer …` or `X-Cron-Secret`, whichever is present."""
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    header = request.headers.get("X-Cron-Secret", "")
    return header.strip() or None


def secret_matches(presented: str | None, expected: str) -> bool:
    """Constant-time comparison (hmac.compare_digest) on bytes, so non-ASCII input cannot raise."""
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def process_queue(now=None) -> dict:
    """Every stage once, in pipeline order, each under its sweep lease. A failing stage is
    reported and the next still runs."""
    from optionsengine.pipeline.run_once import STAGES
    from optionsengine.tasks import SKIPPED, run_stage_sweep

    moment = now or clock.now()
    results, errors = {}, []
    for stage, _ in STAGES:
        result = run_stage_sweep(stage, now=moment)
        results[stage] = {"counts": dict(sorted(result.counts.items())), "errors": list(result.errors),
                          "skipped": bool(result.counts.get(SKIPPED))}
        errors.extend(f"{stage}: {message}" for message in result.errors)
    return {"results": results, "errors": errors}


class CronProcessQueueApi(APIView):
    authentication_classes: list = []  # the cron secret is the only credential
    permission_classes = [AllowAny]

    def post(self, request):
        expected = getattr(settings, "CRON_SECRET", "")
        if not expected:
            return Response({"ok": False, "error": "Cron processing not configured (set CRON_SECRET)"}, status=503)
        if not secret_matches(presented_secret(request), expected):
            return Response({"ok": False, "error": "Unauthorized"}, status=401)
        if not getattr(settings, "ENABLE_CRON_PROCESSING", True):
            return Response({"ok": True, "skip": True,
                             "reason": "Cron disabled (ENABLE_CRON_PROCESSING=false; workers likely running)"})
        started = time.perf_counter()
        try:
            outcome = process_queue()
        except Exception as exc:  # e.g. the database is down: a 5xx lets the caller's cron retry
            logger.exception("cron process-queue failed")
            return Response({"ok": False, "durationMs": _ms(started), "error": f"{type(exc).__name__}: {exc}"},
                            status=500)
        return Response({"ok": not outcome["errors"], "durationMs": _ms(started), **outcome})


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


process_queue_view = CronProcessQueueApi.as_view()
