"""Same-strike cooldown (reference execution §1.10): do not stack entries on one contract.

Pure. A new entry order is skipped when, with the same test flag, the same `option_symbol`, the
same engine and the same webhook source, there is an entry order that is still pending (any age:
an unfilled order on that contract is still live) or that filled within the cooldown window.

The webhook source is derived from the signal's raw payload exactly as the seed does, so alerts
from different strategies on the same contract do not block each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from signals_app.engines.paths import dig

_ORB_INDICATORS = frozenset({"ORB", "STRETCH", "BHCH", "EMA"})



def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def webhook_source(payload: Mapping | None) -> str:
    """SATY_PHASE, STRAT, TREND, ORB, SIGNALS, else `source`/`strategy`/`indicator`, else UNKNOWN."""
    if not isinstance(payload, Mapping):
        return "UNKNOWN"
    if dig(payload, "meta.engine") == "SATY_PO":
        return "SATY_PHASE"
    if dig(payload, "journal.engine") == "STRAT_V6_FULL":
        return "STRAT"
    if all(payload.get(key) is not None for key in ("timeframes", "bias", "ticker")):
        return "TREND"
    indicator = payload.get("indicator")
    if isinstance(indicator, str) and indicator.strip().upper() in _ORB_INDICATORS:
        return "ORB"
    if payload.get("trend") is not None and _is_number(payload.get("score")) and payload.get("signal") is not None:
        return "SIGNALS"
    for key in ("source", "strategy", "indicator"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:64]
    return "UNKNOWN"


@dataclass(frozen=True)
class RecentEntry:
    """An existing entry order on a contract: pending, or filled at `filled_at`."""

    option_symbol: str
    engine: str | None
    is_test: bool
    source: str
    pending: bool
    filled_at: datetime | None = None


def blocking_entry(
    *, option_symbol: str, engine: str | None, is_test: bool, source: str,
    recent: Iterable[RecentEntry], now: datetime, minutes: int,
) -> RecentEntry | None:
    """The entry that puts this contract in cooldown, or None when an order may be created."""
    if minutes <= 0:
        return None
    since = now - timedelta(minutes=minutes)
    for entry in recent:
        if (entry.option_symbol, entry.engine, entry.is_test, entry.source) != (option_symbol, engine, is_test, source):
            continue
        if entry.pending or (entry.filled_at is not None and entry.filled_at >= since):
            return entry
    return None
