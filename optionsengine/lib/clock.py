"""The one clock every process reads.

`now()` is the only place the service asks what time it is. `OPTIONSENGINE_NOW` (ISO-8601) freezes
it for every process (replays, demos, reproducible checks); `override()` lets a replay or a test
move it inside one process. Pure code never calls this: it receives `now` as an argument.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime

from optionsengine.lib.market_calendar import MARKET_TZ

_override: datetime | None = None


class ClockConfigError(ValueError):
    pass


def parse_frozen_now(value: str | None) -> datetime | None:
    """Parse `OPTIONSENGINE_NOW`; naive values are read as UTC. Raises ClockConfigError."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ClockConfigError(
            f"OPTIONSENGINE_NOW={value!r} is not ISO-8601; set e.g. 2026-03-13T14:30:00Z or unset it"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def now() -> datetime:
    """Aware UTC now: the in-process override, else OPTIONSENGINE_NOW, else the wall clock."""
    if _override is not None:
        return _override
    frozen = parse_frozen_now(os.environ.get("OPTIONSENGINE_NOW"))
    return frozen if frozen is not None else datetime.now(UTC)


def set_now(value: datetime | None) -> None:
    """Move this process's clock (replays advance it step by step); None returns to normal."""
    global _override
    if value is not None and value.tzinfo is None:
        raise ValueError("clock.set_now needs an aware datetime")
    _override = value.astimezone(UTC) if value is not None else None


@contextlib.contextmanager
def override(value: datetime) -> Iterator[datetime]:
    previous = _override
    set_now(value)
    try:
        yield value
    finally:
        set_now(previous)


def market_now() -> datetime:
    return now().astimezone(MARKET_TZ)
