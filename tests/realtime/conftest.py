from __future__ import annotations

import time

import pytest
from rest_framework.authtoken.models import Token


@pytest.fixture
def api_token(db, django_user_model):
    user = django_user_model.objects.create_user(username="stream-reader", password="pw-stream-123")
    return Token.objects.create(user=user).key


@pytest.fixture
def fast_stream(settings):
    """Short heartbeats and lifetimes so a test never waits long for the next frame."""
    settings.REALTIME_HEARTBEAT_SECONDS = 0.1
    settings.REALTIME_MAX_STREAM_SECONDS = 10
    return settings


def read_until(frames, predicate, *, seconds: float = 5.0) -> list[str]:
    """Pull frames (text) until one satisfies `predicate`; fail after `seconds`."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    for frame in frames:
        text = frame.decode() if isinstance(frame, bytes) else frame
        seen.append(text)
        if predicate(text):
            return seen
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no matching frame in {seen!r}")


def event_frame(event_type: str):
    return lambda text: text.startswith(f"event: {event_type}\n")


def sample_position_payload(position_id: str = "11111111-2222-3333-4444-555555555555") -> dict:
    return {
        "id": position_id, "symbol": "SPY", "option_symbol": "SPY-20260417-C-600", "type": "call",
        "strike": "600.0000", "expiry": "2026-04-17", "qty": 2, "entry_price": "5.0000", "exit_price": None,
        "current_price": "5.5000", "unrealized_pnl": "100.00", "realized_pnl": "0.00", "pnl_percent": "10.0000",
        "status": "open", "entry_time": "2026-03-13T14:30:00+00:00", "exit_time": None,
        "updated_at": "2026-03-13T14:31:00+00:00",
    }
