"""The one symbol rule shared by trade signals, bias payloads and the API (SPEC §3)."""

from __future__ import annotations

import re

SYMBOL_RE = re.compile(r"^[A-Z0-9.^/_-]{1,20}$")


def normalize_symbol(value: object) -> str | None:
    """Trim, upper-case, drop an `EXCHANGE:` prefix (`NASDAQ:aapl` → `AAPL`); None if unusable."""
    if not isinstance(value, str):
        return None
    symbol = value.strip().upper().rsplit(":", 1)[-1].strip()
    return symbol if SYMBOL_RE.match(symbol) else None
