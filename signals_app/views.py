"""Thin HTTP edges of ingestion: read the body within the limit, delegate, answer JSON."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from optionsengine.lib import clock
from optionsengine.lib.jsonresponse import json_response
from optionsengine.pipeline.ingest import ENDPOINT_MTF_BIAS, ENDPOINT_WEBHOOK, WebhookRequest, handle_webhook


def _read_limited(request: HttpRequest, limit: int) -> tuple[bytes, bool]:
    """Read at most limit + 1 bytes, so an oversized (or chunked) body is never held whole."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        return b"", True
    body = request.read(limit + 1)
    return (b"", True) if len(body) > limit else (body, False)


def _serve(request: HttpRequest, endpoint: str) -> HttpResponse:
    started = time.perf_counter()
    body, too_large = _read_limited(request, settings.WEBHOOK_MAX_BODY_BYTES)
    response = handle_webhook(
        WebhookRequest(
            raw_body=body, endpoint=endpoint, signature=request.headers.get("X-Webhook-Signature"),
            token=request.GET.get("token"), started=started, too_large=too_large,
        )
    )
    return json_response(response.body, status=response.status)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    return _serve(request, ENDPOINT_WEBHOOK)


@csrf_exempt
@require_POST
def mtf_bias_webhook(request: HttpRequest) -> HttpResponse:
    return _serve(request, ENDPOINT_MTF_BIAS)


@require_GET
def webhook_test(request: HttpRequest) -> HttpResponse:
    return json_response(
        {
            "status": "ok",
            "message": "Webhook endpoint is ready",
            "timestamp": clock.now().isoformat(),
            "webhook_auth": "enabled" if settings.WEBHOOK_SECRET else "disabled",
        }
    )
