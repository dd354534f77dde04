"""Bias payload ingestion (SPEC §4). Called by optionsengine.pipeline.ingest inside its transaction.

No network I/O and no transaction of its own: the caller opens one durable transaction, calls
`ingest_bias_payload`, writes the `webhook_events` audit row from the outcome and commits both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bias_app.engines.normalize import InvalidBiasPayload, parse_bias_payload
from bias_app.engines.staleness import now_ms
from bias_app.services.apply_event import apply_bias_event
from optionsengine.lib.transactions import require_transaction

INVALID_PAYLOAD = "invalid_payload"
_ERROR_MESSAGE_MAX = 500


@dataclass(frozen=True)
class BiasIngestOutcome:
    """What the webhook answers and audits for one bias payload."""

    http_status: int
    body: dict
    audit_status: str  # a webhook_events.status value
    symbol: str | None = None
    error_message: str | None = None
    details: list[dict] = field(default_factory=list)
    event_id: str | None = None  # sha256 hex of event_id_raw, once the payload is valid
    state: dict | None = None  # the state made current (accepted only)


def ingest_bias_payload(*, payload: dict, kind: str, received_at: datetime) -> BiasIngestOutcome:
    """Validate, apply and store one bias payload (`kind`: bias_v3 | bias_legacy).

    Requires an open transaction. 200 with status accepted / duplicate / out_of_order (the audit
    status is the same word), or 422 `{"error": "Invalid payload", "details": [{field, message}]}`.
    """
    require_transaction()
    try:
        event = parse_bias_payload(payload, kind=kind, now_ms=now_ms(received_at))
    except InvalidBiasPayload as invalid:
        details = [issue.as_dict() for issue in invalid.issues]
        return BiasIngestOutcome(
            http_status=422, body={"error": "Invalid payload", "details": details}, audit_status=INVALID_PAYLOAD,
            symbol=invalid.symbol, error_message=_summarize(details), details=details,
        )
    status, state = apply_bias_event(event=event, received_at=received_at)
    return BiasIngestOutcome(
        http_status=200,
        body={"success": True, "event_id": event.event_id, "symbol": event.symbol, "status": status},
        audit_status=status, symbol=event.symbol, event_id=event.event_id, state=state,
    )


def _summarize(details: list[dict]) -> str:
    text = "Invalid payload: " + "; ".join(f"{d['field']} {d['message']}" for d in details)
    return text if len(text) <= _ERROR_MESSAGE_MAX else text[: _ERROR_MESSAGE_MAX - 1] + "…"
