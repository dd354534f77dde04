"""Fast JSON responses (orjson): UUIDs and datetimes natively, Decimals as strings (never floats)."""

from __future__ import annotations

from decimal import Decimal

import orjson
from django.http import HttpResponse


def orjson_default(value):
    """orjson's fallback for our types: Decimals as strings, never floats."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_response(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(body, default=orjson_default), status=status, content_type="application/json")
