"""Bias payload ingestion (SPEC §4). Called by optionsengine.pipeline.ingest inside its transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class BiasIngestOutcome:
    """What the webhook answers and audits for one bias payload."""

    http_status: int
    body: dict
    audit_status: str  # a webhook_events.status value
    symbol: str | None = None
    error_message: str | None = None
    details: list[dict] = field(default_factory=list)


def ingest_bias_payload(*, payload: dict, kind: str, received_at: datetime) -> BiasIngestOutcome:
    """Validate, apply and store one bias payload. Requires an open transaction."""
    return BiasIngestOutcome(
        http_status=422,
        body={"error": "bias processing not enabled yet"},
        audit_status="invalid_payload",
        symbol=None,
        error_message="bias processing not enabled yet",
    )
