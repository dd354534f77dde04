"""Canonical timeframe strings (SPEC §3: 5m, 1h, 1d, 1w, 1mo) → minutes. Pure."""

from __future__ import annotations

import re

_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080, "mo": 43200}  # a month counts as 30 days
_CANONICAL = re.compile(r"^(\d+)(mo|m|h|d|w)$")


def timeframe_minutes(timeframe: str) -> int:
    """Minutes in one bar of a canonical timeframe; ValueError for anything else."""
    match = _CANONICAL.match(timeframe)
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"not a canonical timeframe: {timeframe!r}")
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2)]
