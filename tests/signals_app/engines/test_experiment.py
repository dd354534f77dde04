"""A/B assignment and the market-context hash (SPEC §6, reference orchestrator §2.8, §3)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from signals_app.engines.experiment import assign_variant, context_hash

SIGNAL_ID = "5f0c1d8e-3b7a-4c2e-9f10-2a6b8c4d1e23"
SIGNAL_HASH = "9b1f3c"


def expected_bucket(signal_id: str, signal_hash: str) -> int:
    digest = hashlib.sha256(f"{signal_id}:{signal_hash}".encode()).hexdigest()
    return int(digest[:16], 16) % 10_000


def test_assignment_hash_and_bucket_follow_the_spec_formula():
    assignment = assign_variant(SIGNAL_ID, SIGNAL_HASH, Decimal("50"))
    assert assignment.assignment_hash == hashlib.sha256(f"{SIGNAL_ID}:{SIGNAL_HASH}".encode()).hexdigest()
    assert assignment.bucket == expected_bucket(SIGNAL_ID, SIGNAL_HASH)


def test_assignment_is_deterministic_for_a_signal():
    first = assign_variant(SIGNAL_ID, SIGNAL_HASH, Decimal("37.5"))
    assert all(assign_variant(SIGNAL_ID, SIGNAL_HASH, Decimal("37.5")) == first for _ in range(5))


def test_a_different_signal_hash_changes_the_assignment_hash():
    first, second = (assign_variant(SIGNAL_ID, signal_hash, Decimal(0)) for signal_hash in ("a", "b"))
    assert first.assignment_hash != second.assignment_hash


@pytest.mark.parametrize(
    ("split_offset", "variant"),
    [
        (Decimal("-0.01"), "A"),  # threshold one hundredth below the bucket
        (Decimal("0"), "A"),  # bucket == split × 100 goes to A
        (Decimal("0.01"), "B"),  # threshold one above the bucket
    ],
)
def test_variant_b_iff_bucket_is_below_split_times_100(split_offset, variant):
    bucket = expected_bucket(SIGNAL_ID, SIGNAL_HASH)
    split = Decimal(bucket) / 100 + split_offset
    assert assign_variant(SIGNAL_ID, SIGNAL_HASH, split).variant == variant


@pytest.mark.parametrize(("split", "variant"), [(Decimal("0"), "A"), (Decimal("100"), "B")])
def test_split_0_is_always_a_and_100_is_always_b(split, variant):
    ids = [f"signal-{n}" for n in range(300)]
    assert {assign_variant(signal_id, SIGNAL_HASH, split).variant for signal_id in ids} == {variant}


def test_split_is_a_percentage_not_a_fraction():
    ids = [f"signal-{n}" for n in range(2000)]
    routed_to_b = sum(assign_variant(signal_id, SIGNAL_HASH, Decimal("50")).variant == "B" for signal_id in ids)
    assert 900 < routed_to_b < 1100  # the reference clamped 50 to 1.0: 100 % B


@pytest.mark.parametrize("split", [Decimal("-0.01"), Decimal("100.01")])
def test_split_outside_0_to_100_is_refused(split):
    with pytest.raises(ValueError):
        assign_variant(SIGNAL_ID, SIGNAL_HASH, split)


# --- context_hash --------------------------------------------------------------------------------

AT = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
INDICATORS = {"ema8": 601.25, "atr": 1.5, "ttmState": 1, "bbUpper": None}


def context(**changes) -> str:
    values = {
        "signal_id": SIGNAL_ID, "timestamp": AT, "symbol": "SPY", "current_price": Decimal("602.5"),
        "bid": Decimal("602.5"), "ask": Decimal("602.5"), "volume": 12345, "indicators": INDICATORS,
    }
    return context_hash(**{**values, **changes})


def test_context_hash_is_sha256_of_the_documented_canonical_json():
    canonical = (
        '{"signal_id":"5f0c1d8e-3b7a-4c2e-9f10-2a6b8c4d1e23","timestamp":"2026-03-13T14:30:00+00:00",'
        '"symbol":"SPY","current_price":"602.5000","bid":"602.5000","ask":"602.5000","volume":12345,'
        '"indicators":{"atr":1.5,"bbUpper":null,"ema8":601.25,"ttmState":1}}'
    )
    assert context() == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize(
    "changes",
    [
        {"current_price": Decimal("602.50")},  # same price, different exponent
        {"timestamp": AT.astimezone(timezone(timedelta(hours=-4)))},  # same instant, New York offset
        {"indicators": dict(reversed(list(INDICATORS.items())))},  # same indicators, other order
    ],
)
def test_equal_contexts_hash_equally(changes):
    assert context(**changes) == context()


@pytest.mark.parametrize(
    "changes",
    [
        {"current_price": Decimal("602.5001")},
        {"bid": None},
        {"volume": 12346},
        {"indicators": {**INDICATORS, "atr": 1.6}},
        {"timestamp": AT + timedelta(seconds=1)},
    ],
)
def test_any_hashed_field_changes_the_hash(changes):
    assert context(**changes) != context()


@pytest.mark.parametrize(
    "changes",
    [
        {"timestamp": datetime(2026, 3, 13, 14, 30)},  # naive
        {"indicators": {"atr": float("nan")}},
        {"indicators": {"atr": Decimal("Infinity")}},
        {"indicators": {"when": AT}},
    ],
)
def test_context_that_cannot_be_serialized_canonically_is_refused(changes):
    with pytest.raises(ValueError):
        context(**changes)
