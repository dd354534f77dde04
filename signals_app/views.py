"""Thin HTTP edges of ingestion: read the body within the limit, delegate, answer JSON."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from optionsengine.edge import EDGE_PROBLEM, INCOMPLETE, TIMEOUT, TOO_LARGE
from optionsengine.lib import clock
from optionsengine.lib.jsonresponse import json_response
from optionsengine.pipeline.ingest import ENDPOINT_MTF_BIAS, ENDPOINT_WEBHOOK, WebhookRequest, handle_webhook


def _read_limited(request: HttpRequest, limit: int) -> tuple[bytes, str | None]:
    """(body, problem): at most limit + 1 bytes are read, so an oversized body is never held whole.

    Under granian (optionsengine/edge.py) the edge has already read the body within the limit and
    a deadline, and says so in the environ. Under a plain WSGI server a chunked body has no
    Content-Length, and Django would read it as empty: it is read from wsgi.input instead.
    """
    problem = request.META.get(EDGE_PROBLEM)
    if problem:
        return b"", problem
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.strip().isdigit():
        if len(declared.strip()) > 18 or int(declared) > limit:
            return b"", TOO_LARGE
        body = request.read(limit + 1)
    elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        body = _read_stream(request.META["wsgi.input"], limit + 1)
    else:
        body = request.read(limit + 1)
    return (b"", TOO_LARGE) if len(body) > limit else (body, None)


def _read_stream(stream, most: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < most:
        chunk = stream.read(min(65536, most - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _serve(request: HttpRequest, endpoint: str) -> HttpResponse:
    started = time.perf_counter()
    body, problem = _read_limited(request, settings.WEBHOOK_MAX_BODY_BYTES)
    response = handle_webhook(
        WebhookRequest(
            raw_body=body, endpoint=endpoint, signature=request.headers.get("X-Webhook-Signature"),
            token=request.GET.get("token"), started=started, too_large=problem == TOO_LARGE,
            body_timeout=problem == TIMEOUT, body_incomplete=problem == INCOMPLETE, client_addr=request.META.get("REMOTE_ADDR"),
            headers=_signature_headers(request),
        )
    )
    reply = json_response(response.body, status=response.status)
    for name, value in response.headers.items():
        reply[name] = value
    return reply


_SW_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _signature_headers(request: HttpRequest) -> dict:
    return {name: value for name in _SW_HEADERS if (value := request.headers.get(name))}


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
