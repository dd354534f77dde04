"""Bias payload builders: realistic producer payloads from tests/data/bias with dotted-path overrides."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import transaction

from bias_app.services.ingest import BiasIngestOutcome, ingest_bias_payload

DATA = Path(__file__).resolve().parent.parent / "data" / "bias"
# Fri 2026-03-13 10:30 New York (regular hours); the payload files are stamped one minute earlier.
NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
NOW_MS = 1773412200000
BASE_TS_MS = 1773412140000
_DROP = object()


def drop() -> Any:
    """Use as an override value to delete a key."""
    return _DROP


def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


_V3 = _load("v3_bias_snapshot.json")
_V1 = _load("v1_bias_snapshot.json")


def with_changes(payload: dict, changes: dict[str, Any] | None) -> dict:
    result = copy.deepcopy(payload)
    for path, value in (changes or {}).items():
        *parents, leaf = path.split(".")
        node = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is _DROP:
            del node[leaf]
        else:
            node[leaf] = value
    return result


def _build(base: dict, changes, ts_ms: int | None, symbol: str | None, source_tag: str) -> dict:
    payload = copy.deepcopy(base)
    if symbol is not None:
        payload["symbol"] = symbol
    if ts_ms is not None:
        payload["event_ts_ms"] = ts_ms
    payload = with_changes(payload, changes)
    if "event_id_raw" not in (changes or {}):
        # The producer's convention, so two payloads differing in symbol, time or type differ in id.
        parts = [str(payload.get(key)) for key in ("symbol", "chart_tf", "event_ts_ms", "event_type")]
        payload["event_id_raw"] = "|".join([source_tag, *parts])
    return payload


def v3_payload(changes: dict[str, Any] | None = None, *, ts_ms: int | None = None, symbol: str | None = None) -> dict:
    """A valid V3 payload; `event_id_raw` follows the producer convention unless overridden."""
    return _build(_V3, changes, ts_ms, symbol, "MTF_BIAS_ENGINE_V3")


def v1_payload(changes: dict[str, Any] | None = None, *, ts_ms: int | None = None, symbol: str | None = None) -> dict:
    return _build(_V1, changes, ts_ms, symbol, "MTF_BIAS_ENGINE_V1")


def ingest(payload: dict, *, kind: str = "bias_v3", received_at: datetime = NOW) -> BiasIngestOutcome:
    """Call the service the way the webhook pipeline does: inside one transaction."""
    with transaction.atomic():
        return ingest_bias_payload(payload=payload, kind=kind, received_at=received_at)
