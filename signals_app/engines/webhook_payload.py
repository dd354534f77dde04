"""Pure helpers for one webhook request: authentication, routing by shape, audit redaction."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

import orjson

REDACTED = "[REDACTED]"
SECRET_FIELDS = ("secret", "passphrase")
AUDIT_PREVIEW_CHARS = 500
V3_SOURCE_PREFIX = "MTF_BIAS_ENGINE_V3"
V3_SHAPE_KEYS = ("mtf", "macro", "intent", "liquidity", "space", "trigger")
LEGACY_EVENT_TYPES = {"BIAS_SNAPSHOT", "BIAS_CHANGE", "ORB_UPDATE"}

# Far deeper than any alert (V3 bias payloads nest 4 levels) and far below orjson's encoder limit
# (254) and Python's recursion limit, so every recursive walk below is safe once this holds.
MAX_JSON_DEPTH = 32
# Standard Webhooks (standardwebhooks.com): signed id and timestamp, checked within a tolerance.
SW_ID, SW_TIMESTAMP, SW_SIGNATURE = "webhook-id", "webhook-timestamp", "webhook-signature"
SW_MAX_ID_LENGTH = 255

KIND_SIGNAL = "signal"
KIND_BIAS_V3 = "bias_v3"
KIND_BIAS_LEGACY = "bias_legacy"


def classify_payload(payload: dict) -> str:
    """SPEC §3 routing: bias payloads are recognised by shape, everything else is a trade signal."""
    if isinstance(payload.get("event_id_raw"), str):
        source = payload.get("source")
        if (isinstance(source, str) and source.startswith(V3_SOURCE_PREFIX)) or all(
            key in payload for key in V3_SHAPE_KEYS
        ):
            return KIND_BIAS_V3
    event_type = payload.get("event_type")
    if "event_id_raw" in payload and "mtf" in payload and isinstance(event_type, str) and event_type in LEGACY_EVENT_TYPES:
        return KIND_BIAS_LEGACY
    return KIND_SIGNAL


def classify_bias_payload(payload: dict) -> str:
    """For the bias-only endpoint: legacy when it looks legacy, otherwise validated as V3."""
    kind = classify_payload(payload)
    if kind == KIND_SIGNAL:
        source = payload.get("source")
        looks_v3 = isinstance(source, str) and source.startswith(V3_SOURCE_PREFIX)
        return KIND_BIAS_LEGACY if "mtf" in payload and not looks_v3 else KIND_BIAS_V3
    return kind


def json_depth_exceeds(raw_body: bytes, payload, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the parsed body nests containers deeper than `limit` (iterative: no recursion).

    A body with fewer than `limit` brackets cannot be that deep, so alerts skip the walk entirely.
    """
    if raw_body.count(b"{") + raw_body.count(b"[") <= limit:
        return False
    stack = [(payload, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, dict | list))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return False


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def is_authentic(*, secret: str, raw_body: bytes, payload: dict | None, signature: str | None, token: str | None) -> bool:
    """One policy for every payload kind. With no secret configured the webhook is open.

    Authentic if any of: header HMAC-SHA256 hex of the raw body (optional `sha256=` prefix), body
    `secret`/`passphrase`, or `?token=`; every comparison is constant-time.
    """
    if not secret:
        return True
    ok = False
    if signature:
        expected = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
        given = signature.strip().lower().removeprefix("sha256=")
        ok |= _equal(given, expected)
    if token is not None:
        ok |= _equal(token, secret)
    if isinstance(payload, dict):
        for key in SECRET_FIELDS:
            value = payload.get(key)
            if isinstance(value, str):
                ok |= _equal(value, secret)
    return ok


def _sw_key(secret: str) -> bytes:
    """A `whsec_<base64>` secret is used decoded, as Standard Webhooks libraries do; any other as UTF-8."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode("utf-8")


def sign_standard(*, secret: str, msg_id: str, timestamp: int | str, raw_body: bytes) -> str:
    """The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`."""
    signed = f"{msg_id}.{timestamp}.".encode() + raw_body
    return "v1," + base64.b64encode(hmac.new(_sw_key(secret), signed, hashlib.sha256).digest()).decode()


def verify_standard(
    *, secret: str, raw_body: bytes, msg_id: str | None, timestamp: str | None, signature: str | None,
    now_s: float, tolerance_s: int,
) -> str | None:
    """None when the Standard Webhooks headers are valid, else why not (the 401 error text).

    The timestamp and id are signed with the body, so a captured request cannot be replayed after
    the tolerance window; within it the caller refuses a reused id.
    """
    if not msg_id or not timestamp or not signature:
        return "Invalid signature"
    if len(msg_id) > SW_MAX_ID_LENGTH or not timestamp.strip().isdigit() or len(timestamp.strip()) > 12:
        return "Invalid signature"
    if abs(now_s - int(timestamp)) > tolerance_s:
        return "Signature timestamp outside tolerance"
    expected = sign_standard(secret=secret, msg_id=msg_id, timestamp=timestamp.strip(), raw_body=raw_body)
    ok = False
    for candidate in signature.split()[:8]:  # several signatures during a secret rotation
        ok |= _equal(candidate, expected)
    return None if ok else "Invalid signature"


def carries_credentials(*, payload: dict | None, signature: str | None, token: str | None, sw_signature: str | None) -> bool:
    """Did the sender try to authenticate? (used to warn when auth is off)"""
    if signature or token or sw_signature:
        return True
    return isinstance(payload, dict) and any(payload.get(key) for key in SECRET_FIELDS)


def contains_nul(value) -> bool:
    """PostgreSQL cannot store U+0000 in jsonb or text; such a body is refused, not a 500."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def without_nul(value):
    """A storable copy for the audit row: U+0000 replaced by U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def _scrub(value, secret: str):
    """Blank the secret wherever it appears (a user may paste it into a free-text field too)."""
    if isinstance(value, str):
        return value.replace(secret, REDACTED) if secret in value else value
    if isinstance(value, dict):
        return {key: _scrub(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, secret) for item in value]
    return value


def strip_secrets(payload: dict, secret: str = "") -> dict:
    """The stored copy: secret fields removed entirely, stray copies of the secret blanked."""
    stripped = {key: value for key, value in payload.items() if key not in SECRET_FIELDS}
    return _scrub(stripped, secret) if secret else stripped


def redact_secrets(payload: dict, secret: str = "") -> dict:
    """The audit copy: secret fields kept as a marker so an operator sees one was sent."""
    redacted = {key: (REDACTED if key in SECRET_FIELDS else value) for key, value in payload.items()}
    return _scrub(redacted, secret) if secret else redacted


def _preview(text: str) -> str:
    return text[:AUDIT_PREVIEW_CHARS] + ("..." if len(text) > AUDIT_PREVIEW_CHARS else "")


def audit_payload(payload: dict | None, raw_body: bytes, *, secret: str, max_bytes: int) -> dict | None:
    """What webhook_events.raw_payload stores: redacted, and truncated with a marker when large.

    For a body that is not a JSON object the raw text is previewed with the configured secret
    blanked out, so a mistyped alert can still be diagnosed without leaking the secret.
    """
    if payload is None:
        text = raw_body.decode("utf-8", errors="replace")
        if secret:
            text = text.replace(secret, REDACTED)
        return {"_invalid_json": True, "_preview": without_nul(_preview(text))}
    redacted = redact_secrets(payload, secret)
    encoded = orjson.dumps(redacted)
    if len(encoded) <= max_bytes:
        return redacted
    return {"_truncated": True, "_preview": _preview(encoded.decode("utf-8"))}
