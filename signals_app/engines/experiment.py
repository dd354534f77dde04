"""A/B variant assignment and the market-context hash (SPEC §6, reference orchestrator §2.8, §3).

Pure. Assignment is a function of the signal alone, so a retried or replayed signal always lands
in the same variant. `AB_SPLIT_PERCENTAGE` is a real percentage (0–100) of signals routed to B;
the reference clamped it as a fraction, so `50` meant 100 % B.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from optionsengine.lib import money

VARIANT_A = "A"  # rule-based Engine A
VARIANT_B = "B"  # multi-agent Engine B

BUCKETS = 10_000  # bucket resolution: a split can be set to 0.01 %
_HASH_PREFIX_HEX_DIGITS = 16
_ONE_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Assignment:
    variant: str  # "A" | "B"
    assignment_hash: str  # SHA-256 hex of "<signal_id>:<signal_hash>"
    bucket: int  # 0 … 9999


def assign_variant(signal_id: str, signal_hash: str, split_percentage: Decimal) -> Assignment:
    """B iff bucket < split × 100: 0 % → always A, 100 % → always B (every bucket is < 10 000)."""
    if not Decimal(0) <= split_percentage <= _ONE_HUNDRED:
        raise ValueError(f"split percentage must be within 0–100, not {split_percentage}")
    assignment_hash = hashlib.sha256(f"{signal_id}:{signal_hash}".encode()).hexdigest()
    bucket = int(assignment_hash[:_HASH_PREFIX_HEX_DIGITS], 16) % BUCKETS
    threshold = split_percentage * BUCKETS / _ONE_HUNDRED
    variant = VARIANT_B if bucket < threshold else VARIANT_A
    return Assignment(variant=variant, assignment_hash=assignment_hash, bucket=bucket)


def context_hash(
    signal_id: str,
    timestamp: datetime,
    symbol: str,
    current_price: Decimal,
    bid: Decimal | None,
    ask: Decimal | None,
    volume: int,
    indicators: Mapping[str, object],
) -> str:
    """SHA-256 hex of the canonical JSON of the market context (stored, never re-verified).

    Canonical form, so equal contexts always hash equally:
    - an object with exactly the keys signal_id, timestamp, symbol, current_price, bid, ask,
      volume, indicators, in that order; compact separators (`,` `:`), UTF-8, non-ASCII unescaped;
    - `timestamp`: the instant in UTC as ISO-8601 (`2026-03-13T14:30:00+00:00`); naive → ValueError;
    - prices: strings quantized to 4 dp like the price columns (`"602.5000"`); null when absent;
    - `indicators`: keys sorted; floats as Python's shortest round-trip repr, None → null,
      Decimals as strings; NaN or infinity → ValueError (not JSON).
    GEX, flow and gamma context are deliberately not hashed (reference §2.8).
    """
    if timestamp.tzinfo is None:
        raise ValueError("context timestamp must be timezone-aware")
    document = {
        "signal_id": signal_id,
        "timestamp": timestamp.astimezone(UTC).isoformat(),
        "symbol": symbol,
        "current_price": _price_text(current_price),
        "bid": _price_text(bid),
        "ask": _price_text(ask),
        "volume": volume,
        "indicators": {key: indicators[key] for key in sorted(indicators)},
    }
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_decimal_text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _price_text(value: Decimal | None) -> str | None:
    return None if value is None else str(money.price(value))


def _decimal_text(value: object) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    raise ValueError(f"cannot hash {value!r} in a market context")
