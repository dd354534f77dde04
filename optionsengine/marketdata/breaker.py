"""Per-provider circuit breaker, shared by every process through the Django cache.

closed ─(5 consecutive failures)→ open ─(60 s)→ half-open ─(success)→ closed
                                   ▲                  │
                                   └──(failure)───────┘
An entitlement error (401/403) opens the breaker for 30 minutes at once: retrying a key that is
not allowed to see the data only burns quota. In half-open one process at a time wins the probe
(`cache.add`), so a recovering provider is not hit by every worker at once.

The breaker measures real outages, so it runs on the wall clock (`time.time`), not the market
clock that OPTIONSENGINE_NOW may freeze. Counter updates are read-modify-write on the cache; a
lost increment under a race only delays opening by one failure, which is acceptable here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from optionsengine.marketdata.errors import EntitlementError, ProviderError

FAILURE_THRESHOLD = 5
OPEN_SECONDS = 60
ENTITLEMENT_OPEN_SECONDS = 30 * 60
PROBE_SECONDS = 30
_STATE_TTL = 24 * 3600

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(self, name: str, cache: Any, *, wall_time: Callable[[], float] = time.time) -> None:
        self.name = name
        self._cache = cache
        self._wall_time = wall_time
        self._key = f"marketdata:breaker:{name}"
        self._probe_key = f"marketdata:breaker-probe:{name}"

    def _load(self) -> dict[str, Any]:
        return self._cache.get(self._key) or {"failures": 0, "open_until": None, "last_error": None}

    def _save(self, state: dict[str, Any]) -> None:
        self._cache.set(self._key, state, _STATE_TTL)

    def state(self) -> str:
        open_until = self._load()["open_until"]
        if open_until is None:
            return CLOSED
        return OPEN if self._wall_time() < open_until else HALF_OPEN

    def allow(self) -> bool:
        """May this process call the provider now? In half-open, only the probe winner may."""
        current = self.state()
        if current == CLOSED:
            return True
        if current == OPEN:
            return False
        return bool(self._cache.add(self._probe_key, 1, PROBE_SECONDS))

    def record_success(self) -> None:
        state = self._load()
        # The common case (already closed, no probe outstanding) costs one cache read.
        if state["failures"] or state["open_until"] is not None:
            self._save({"failures": 0, "open_until": None, "last_error": state["last_error"]})
            self._cache.delete(self._probe_key)

    def record_failure(self, error: ProviderError) -> None:
        state = self._load()
        failures = state["failures"] + 1
        open_until = state["open_until"]
        now = self._wall_time()
        if isinstance(error, EntitlementError):
            open_until = now + ENTITLEMENT_OPEN_SECONDS
        elif failures >= FAILURE_THRESHOLD or open_until is not None:
            # The second case is a failed half-open probe: it reopens for another full period.
            open_until = now + OPEN_SECONDS
        status = f" {error.status}" if error.status is not None else ""
        self._save({"failures": failures, "open_until": open_until, "last_error": f"{type(error).__name__}{status}"})
        self._cache.delete(self._probe_key)

    def snapshot(self) -> dict[str, Any]:
        state = self._load()
        open_until = state["open_until"]
        return {
            "name": self.name,
            "state": self.state(),
            "consecutive_failures": state["failures"],
            "open_until": datetime.fromtimestamp(open_until, UTC).isoformat() if open_until else None,
            "last_error": state["last_error"],
        }
