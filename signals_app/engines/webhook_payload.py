"""Pure helpers for one webhook request: authentication, routing by shape, audit redaction."""

from __future__ import annotations

import hashlib
import hmac

import orjson

REDACTED = "[REDACTED]"
SECRET_FIELDS = ("secret", "passphrase")
AUDIT_PREVIEW_CHARS = 500
V3_SOURCE_PREFIX = "MTF_BIAS_ENGINE_V3"
V3_SHAPE_KEYS = ("mtf", "macro", "intent", "liquidity", "space", "trigger")
LEGACY_EVENT_TYPES = {"BIAS_SNAPSHOT", "BIAS_CHANGE", "ORB_UPDATE"}

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
