"""Stage 1 — webhook ingestion (SPEC §3): one request in, one audit row and one answer out.

`handle_webhook` is called by the thin views. It owns its transactions: the signal (or bias
update) and its audit row commit together; failures are audited in a fresh transaction so no
request is ever lost, and only genuine faults answer 500 (what TradingView retries).
"""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction

from bias_app.services.ingest import ingest_bias_payload
from optionsengine import marketdata
from optionsengine.lib import clock
from optionsengine.lib.money import to_decimal
from optionsengine.lib.throttles import LiveRateThrottle
from optionsengine.lib.transactions import entry_point_transaction
from optionsengine.marketdata.anchors import Anchor
from optionsengine.models import WebhookMessageId
from optionsengine.pipeline.followups import after_commit, task_row
from signals_app.engines import webhook_payload as wp
from signals_app.engines.normalize import SignalRejected, TestMeta, normalize_signal
from signals_app.models import WebhookEvent
from signals_app.selectors import recorded_webhook_outcome
from signals_app.services.intake import AuditFields, OnAccept, record_signal_webhook, record_webhook_event

logger = logging.getLogger(__name__)
Status = WebhookEvent.Status

ENDPOINT_WEBHOOK = "webhook"
ENDPOINT_MTF_BIAS = "mtf_bias"


@dataclass(frozen=True)
class WebhookRequest:
    raw_body: bytes
    endpoint: str = ENDPOINT_WEBHOOK
    signature: str | None = None  # X-Webhook-Signature
    token: str | None = None  # ?token=
    started: float | None = None  # time.perf_counter() when the request arrived
    too_large: bool = False
    body_timeout: bool = False  # the body did not arrive whole within HTTP_BODY_TIMEOUT_SECONDS
    body_incomplete: bool = False  # the connection ended before the declared body did
    client_addr: str | None = None  # for throttling repeated authentication failures
    headers: dict | None = None  # Standard Webhooks headers: webhook-id, webhook-timestamp, webhook-signature


class InvalidSignatureThrottle(LiveRateThrottle):
    """Repeated authentication failures from one address answer 429 (a valid request never counts)."""

    scope = "webhook_invalid_signature"


class _ThrottleRequest:
    """The little of a DRF request that SimpleRateThrottle.get_ident reads."""

    def __init__(self, addr: str | None):
        self.META = {"REMOTE_ADDR": addr or "unknown"}
        self.headers: dict = {}  # NUM_PROXIES=0 (default): the address is REMOTE_ADDR alone


class _Replayed(Exception):
    pass


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)


class _Request:
    """Per-request identifiers and timing shared by every outcome."""

    def __init__(self, request: WebhookRequest):
        self.request = request
        self.request_id = uuid.uuid4()
        self.event_id = uuid.uuid4()
        self.received_at: datetime = clock.now()
        self.started = request.started if request.started is not None else time.perf_counter()
        # Refined once the body is parsed and routed; the bias-only endpoint never takes signals.
        self.kind: str = wp.KIND_BIAS_V3 if request.endpoint == ENDPOINT_MTF_BIAS else wp.KIND_SIGNAL
        self.audit_copy: dict | None = None  # kept so even a fault's audit row shows the request
        self.message_id: str | None = None  # a verified Standard Webhooks id, claimed with the outcome
        self.warning: str | None = None

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)

    def ids(self) -> dict:
        return {"request_id": self.request_id, "webhook_event_id": self.event_id}

    def audit(self, **fields) -> None:
        record_webhook_event(
            event_id=self.event_id, request_id=self.request_id, received_at=self.received_at,
            processing_time_ms=self.elapsed_ms(), **fields,
        )

    def audit_alone(self, **fields) -> None:
        with entry_point_transaction():
            self.audit(**fields)


def _rejected(req: _Request, http_status: int, error: str, details: list | None = None) -> WebhookResponse:
    body = {"status": "REJECTED", "error": error, **req.ids()}
    if details is not None:
        body["details"] = details
    return WebhookResponse(http_status, body)


def _claim_message_id(message_id: str | None, at: datetime) -> None:
    """Record a Standard Webhooks id inside the outcome's transaction; a reused id is a replay."""
    if not message_id:
        return
    try:
        with transaction.atomic():  # savepoint: the unique key decides, across processes
            WebhookMessageId.objects.create(message_id=message_id, seen_at=at)
    except IntegrityError:
        raise _Replayed from None
    if uuid.uuid4().int % 100 == 0:  # now and then, forget ids far outside the tolerance
        horizon = at - timedelta(seconds=2 * settings.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS)
        WebhookMessageId.objects.filter(seen_at__lt=horizon).delete()


def _parse(raw_body: bytes) -> dict | None:
    try:
        payload = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def handle_webhook(request: WebhookRequest) -> WebhookResponse:
    req = _Request(request)
    try:
        try:
            return _handle(req)
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block:
                raise
            # The connection died (database restart, failover; a persistent connection that died
            # between requests). Outside a transaction the request's last write may or may not
            # have committed — PostgreSQL's intake batch commits as it ends — so look for its audit
            # row on a fresh connection: answer from it if it is there, else run the request once
            # more rather than lose the alert. A second failure is a genuine fault.
            logger.warning("webhook request %s: database connection lost, retrying once", req.request_id)
            connection.close()
            return _answer_recorded(req) or _handle(req)
    except Exception as exc:  # a genuine fault: audit it, answer 500 so TradingView retries
        logger.exception("webhook request %s failed", req.request_id)
        try:
            req.audit_alone(
                kind=req.kind, status=Status.ERROR, error_message=f"{type(exc).__name__}: {exc}"[:500],
                raw_payload=req.audit_copy,
            )
        except Exception:
            logger.exception("could not audit failed webhook request %s", req.request_id)
        return WebhookResponse(
            500, {"status": "ERROR", "error": "Internal server error", "processing_time_ms": req.elapsed_ms(), **req.ids()}
        )


def _answer_recorded(req: _Request) -> WebhookResponse | None:
    """The answer to a request whose outcome committed before its connection was lost, or None."""
    row = recorded_webhook_outcome(req.event_id)
    if row is None:
        return None
    common = {"processing_time_ms": req.elapsed_ms(), "is_test": row["is_test"], "test_session_id": row["test_session_id"], **req.ids()}
    if row["status"] == Status.ACCEPTED and row["signal_id"] is not None:
        return WebhookResponse(201, {"status": "ACCEPTED", "signal_id": row["signal_id"], **common})
    return WebhookResponse(200, {"status": row["status"].upper(), "message": "Request recorded", **common})


def _handle(req: _Request) -> WebhookResponse:
    request = req.request
    secret = settings.WEBHOOK_SECRET
    max_audit = settings.WEBHOOK_AUDIT_MAX_PAYLOAD_BYTES
    if request.too_large:
        req.audit_alone(
            kind=req.kind, status=Status.INVALID_PAYLOAD, error_message="Payload too large",
            raw_payload={"_too_large": True, "_limit_bytes": settings.WEBHOOK_MAX_BODY_BYTES},
        )
        return _rejected(req, 413, "Payload too large")
    if request.body_timeout:
        req.audit_alone(
            kind=req.kind, status=Status.INVALID_PAYLOAD, error_message="Request body timeout",
            raw_payload={"_body_timeout": True, "_timeout_seconds": settings.HTTP_BODY_TIMEOUT_SECONDS},
        )
        return _rejected(req, 408, "Request body timeout")
    if request.body_incomplete:
        req.audit_alone(
            kind=req.kind, status=Status.INVALID_PAYLOAD, error_message="Incomplete request body",
            raw_payload={"_body_incomplete": True},
        )
        return _rejected(req, 400, "Incomplete request body")
    payload = _parse(request.raw_body)
    if payload is None:
        req.audit_alone(
            kind=req.kind, status=Status.INVALID_PAYLOAD, error_message="Invalid JSON",
            raw_payload=wp.audit_payload(None, request.raw_body, secret=secret, max_bytes=max_audit),
        )
        return _rejected(req, 400, "Invalid JSON")
    kind = wp.classify_bias_payload(payload) if request.endpoint == ENDPOINT_MTF_BIAS else wp.classify_payload(payload)
    req.kind = kind
    if wp.json_depth_exceeds(request.raw_body, payload):
        # Before any recursive walk (redaction, NUL scan, storage): refused on the raw text.
        preview = wp.audit_payload(None, request.raw_body, secret=secret, max_bytes=max_audit)
        req.audit_alone(
            kind=kind, status=Status.INVALID_PAYLOAD, error_message="Invalid payload",
            raw_payload={"_too_deep": True, "_preview": preview["_preview"]},
        )
        return _rejected(req, 400 if kind == wp.KIND_SIGNAL else 422, "Invalid payload",
                         [{"field": "(body)", "message": f"nested deeper than {wp.MAX_JSON_DEPTH} levels"}])
    audit_copy = wp.audit_payload(payload, request.raw_body, secret=secret, max_bytes=max_audit)
    has_nul = b"\\u0000" in request.raw_body and wp.contains_nul(payload)  # cheap test first
    req.audit_copy = wp.without_nul(audit_copy) if has_nul else audit_copy
    audit_copy = req.audit_copy
    headers = request.headers or {}
    auth_error = _authenticate(req, payload, secret, headers)
    if auth_error:
        return _refuse_unauthenticated(req, kind, audit_copy, auth_error)
    if not secret and wp.carries_credentials(
        payload=payload, signature=request.signature, token=request.token, sw_signature=headers.get(wp.SW_SIGNATURE)
    ):
        logger.warning("webhook request %s carries a secret but webhook authentication is off", req.request_id)
        req.warning = WARNING_AUTH_OFF
    if has_nul:
        req.audit_alone(kind=kind, status=Status.INVALID_PAYLOAD, error_message="Invalid payload", raw_payload=audit_copy)
        return _rejected(req, 400 if kind == wp.KIND_SIGNAL else 422, "Invalid payload",
                         [{"field": "(body)", "message": "NUL characters (\\u0000) are not allowed"}])
    try:
        if kind == wp.KIND_SIGNAL:
            response = _handle_signal(req, payload, audit_copy, secret)
        else:
            response = _handle_bias(req, payload, kind, audit_copy, secret)
    except _Replayed:
        return _refuse_unauthenticated(req, kind, audit_copy, "Replayed message")
    if req.warning:
        response.body["warning"] = req.warning
    return response


WARNING_AUTH_OFF = "Webhook authentication is off on this server: the secret or signature sent was not checked"


def _authenticate(req: _Request, payload: dict, secret: str, headers: dict) -> str | None:
    """None when authentic (or auth is off), else the 401 error text.

    The Standard Webhooks header form (webhook-id/-timestamp/-signature) is checked on its own
    terms, replay included; otherwise any of the SPEC §3 forms authenticates (body secret, ?token=,
    X-Webhook-Signature over the body), which duplicate suppression is the only replay defence for.
    """
    if not secret:
        return None
    request = req.request
    if headers.get(wp.SW_SIGNATURE) or headers.get(wp.SW_ID):
        error = wp.verify_standard(
            secret=secret, raw_body=request.raw_body, msg_id=headers.get(wp.SW_ID),
            timestamp=headers.get(wp.SW_TIMESTAMP), signature=headers.get(wp.SW_SIGNATURE),
            now_s=req.received_at.timestamp(), tolerance_s=settings.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS,
        )
        if error is None:
            req.message_id = headers[wp.SW_ID]
        return error
    authentic = wp.is_authentic(secret=secret, raw_body=request.raw_body, payload=payload, signature=request.signature, token=request.token)
    return None if authentic else "Invalid signature"


def _refuse_unauthenticated(req: _Request, kind: str, audit_copy: dict | None, error: str) -> WebhookResponse:
    throttle = InvalidSignatureThrottle()
    if not throttle.allow_request(_ThrottleRequest(req.request.client_addr), None):
        wait = max(1, int(throttle.wait() or 1))
        req.audit_alone(kind=kind, status=Status.INVALID_SIGNATURE, error_message=f"{error} (throttled)", raw_payload=audit_copy)
        response = _rejected(req, 429, "Too many requests")
        response.headers["Retry-After"] = str(wait)
        response.body["retry_after_seconds"] = wait
        return response
    req.audit_alone(kind=kind, status=Status.INVALID_SIGNATURE, error_message=error, raw_payload=audit_copy)
    # SPEC §3: every bad-auth answer says "Invalid signature"; the precise cause is in the audit row.
    return _rejected(req, 401, "Invalid signature")


def _handle_signal(req: _Request, payload: dict, audit_copy: dict | None, secret: str) -> WebhookResponse:
    try:
        signal = normalize_signal(payload, req.received_at)
    except SignalRejected as rejection:
        known = rejection.known
        test: TestMeta = known.get("test", TestMeta())
        req.audit_alone(
            kind=wp.KIND_SIGNAL, status=Status.INVALID_PAYLOAD, error_message=rejection.error,
            raw_payload=audit_copy, symbol=known.get("symbol"), timeframe=known.get("timeframe"),
            direction=known.get("direction"), is_test=test.is_test, test_session_id=test.test_session_id,
            test_scenario=test.test_scenario,
        )
        return _rejected(req, 400, rejection.error, rejection.details)

    stored = {**wp.strip_secrets(payload, secret), "trace_id": str(req.request_id)}
    test = signal.test
    signal_id = uuid.uuid4()
    task = task_row("orchestrate", signal_id)  # None: the fast path goes through after_commit below
    with _signal_write_scope(req):
        _claim_message_id(req.message_id, req.received_at)
        verdict = record_signal_webhook(
            signal_id=signal_id, signal=signal, stored_payload=stored,
            window_seconds=settings.DUPLICATE_WINDOW_SECONDS,
            audit=AuditFields(
                event_id=req.event_id, request_id=req.request_id, kind=wp.KIND_SIGNAL,
                received_at=req.received_at, processing_time_ms=req.elapsed_ms(), raw_payload=audit_copy,
            ),
            on_accept=OnAccept(anchor=_observed_anchor(signal.symbol, payload.get("price"), req.received_at), task=task),
        )
        if verdict.accepted and task is None:
            after_commit("orchestrate", verdict.signal_id)
    common = {"processing_time_ms": req.elapsed_ms(), "is_test": test.is_test, "test_session_id": test.test_session_id, **req.ids()}
    if verdict.accepted:
        return WebhookResponse(201, {"status": "ACCEPTED", "signal_id": verdict.signal_id, **common})
    return WebhookResponse(
        200, {"status": "DUPLICATE", "message": "Signal already received", "duplicate_of": verdict.signal_id, **common}
    )


def _observed_anchor(symbol: str, price, at: datetime) -> Anchor | None:
    """Replayed alerts trade at their own prices: the simulated market re-anchors to `price`."""
    return None if price is None else marketdata.observed_anchor(symbol, to_decimal(price), at)


def _signal_write_scope(req: _Request):
    """The transaction a signal's writes run in. PostgreSQL: none of ours, since the intake is one
    statement batch that PostgreSQL runs as one implicit transaction (BEGIN and COMMIT would be two
    more round trips per alert); a Standard Webhooks id, claimed in its own savepoint first, needs an
    explicit one. SQLite: the IMMEDIATE transaction that serializes the duplicate check."""
    if connection.vendor == "postgresql" and not req.message_id:
        return nullcontext()
    return entry_point_transaction()


def _handle_bias(req: _Request, payload: dict, kind: str, audit_copy: dict | None, secret: str) -> WebhookResponse:
    with entry_point_transaction():
        _claim_message_id(req.message_id, req.received_at)
        outcome = ingest_bias_payload(payload=wp.strip_secrets(payload, secret), kind=kind, received_at=req.received_at)
        req.audit(
            kind=kind, status=outcome.audit_status, error_message=outcome.error_message,
            raw_payload=audit_copy, symbol=outcome.symbol,
        )
    return WebhookResponse(outcome.http_status, {**outcome.body, **req.ids()})
