"""`GET /api/stream`: server-sent events `position_update` and `risk_update` (SPEC §13).

Authentication, first match wins:
- `Authorization: Token <key>` or `Authorization: Bearer <key>` (a DRF API token);
- `?token=<key>` — browsers' `EventSource` cannot set headers. gunicorn's access log format here
  logs the path without the query string, so the token does not reach the logs;
- a logged-in staff session (the operator pages, same origin).
Anything else → 401 (a malformed or unknown token is never silently downgraded to the session).

Wire format (one frame per event, JSON on one line, Decimals as strings):

    event: position_update
    data: {"type": "position_update", "data": {...fields of reference execution §3.5...}}

On connect: a `retry:` hint, a `: connected` comment and a `risk_update` snapshot of the portfolio
now. Then events as they are published, a `: heartbeat` comment every
`REALTIME_HEARTBEAT_SECONDS` (proxies and clients see a live connection; a vanished client is
detected at the next write), and the stream ends after `REALTIME_MAX_STREAM_SECONDS` so deploys
drain and a WSGI worker thread is not pinned forever; `EventSource` reconnects by itself.

Under WSGI (gunicorn gthread) every open stream occupies one worker thread for its lifetime:
size `GUNICORN_THREADS` for the dashboards you expect (docs/operations.md).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET
from rest_framework.authtoken.models import Token

from optionsengine.lib import clock
from optionsengine.lib.jsonresponse import json_response
from optionsengine.observability import broadcast
from optionsengine.observability.metrics import STREAM_CONNECTIONS

logger = logging.getLogger(__name__)

_TOKEN_KEYWORDS = {"token", "bearer"}


def authenticated_user(request: HttpRequest):
    """The user behind the request's API token or staff session, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() not in _TOKEN_KEYWORDS:
            return None
        key = parts[1]
    else:
        key = request.GET.get("token", "")
    if key:
        token = Token.objects.select_related("user").filter(key=key).first()
        return token.user if token and token.user.is_active else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return user
    return None


def _frame(event: broadcast.Event) -> str:
    return f"event: {event.type}\ndata: {event.json}\n\n"


class EventStream:
    """The response body: an iterator Django closes when the client goes or the stream ends.

    It owns the subscription (made before the response starts, so nothing published after the
    client connected is missed) and releases it in `close()`, even if never iterated.
    """

    def __init__(self, subscription: broadcast.Subscription, *, first: list[broadcast.Event],
                 heartbeat: float, lifetime: float) -> None:
        self._subscription = subscription
        self._frames = self._generate(first, heartbeat, lifetime)
        self._closed = False
        STREAM_CONNECTIONS.inc()

    def __iter__(self):
        return self

    def __next__(self) -> str:
        return next(self._frames)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._frames.close()
        self._subscription.close()
        STREAM_CONNECTIONS.dec()

    def _generate(self, first, heartbeat: float, lifetime: float):
        yield f"retry: 3000\n: connected ({broadcast.transport_name()})\n\n"
        for event in first:
            yield _frame(event)
        started = time.monotonic()
        deadline, next_beat = started + lifetime, started + heartbeat
        while (now := time.monotonic()) < deadline:
            try:
                event = self._subscription.get(timeout=min(next_beat, deadline) - now)
            except Exception as exc:  # transport lost (Redis restart): end; the client reconnects
                logger.warning("stream transport failed: %s: %s", type(exc).__name__, exc)
                yield ": transport lost, reconnect\n\n"
                return
            if event is not None:
                yield _frame(event)
            elif time.monotonic() >= next_beat:
                yield ": heartbeat\n\n"
                next_beat = time.monotonic() + heartbeat
        yield ": lifetime reached, reconnect\n\n"


def _risk_snapshot() -> list[broadcast.Event]:
    from optionsengine.pipeline import events

    try:
        return [broadcast.Event(events.RISK_UPDATE, broadcast.encode(events.RISK_UPDATE, events.risk_payload(clock.now())))]
    except Exception:  # the live events still flow without the snapshot
        logger.exception("could not build the risk_update snapshot")
        return []


@require_GET
def stream(request: HttpRequest) -> HttpResponse:
    if authenticated_user(request) is None:
        response = json_response({"detail": "Authentication credentials were not provided or are invalid."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    try:
        subscription = broadcast.subscribe()
    except broadcast.TransportUnavailable as exc:
        logger.warning("stream refused: %s", exc)
        response = json_response({"detail": "Realtime transport unavailable; retry shortly."}, status=503)
        response["Retry-After"] = "5"
        return response
    body = EventStream(
        subscription,
        first=_risk_snapshot(),
        heartbeat=float(settings.REALTIME_HEARTBEAT_SECONDS),
        lifetime=float(settings.REALTIME_MAX_STREAM_SECONDS),
    )
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response

