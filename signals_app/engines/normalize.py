"""Pure normalization of a TradingView trade-signal payload (SPEC §3).

`normalize_signal(payload, received_at)` returns a `NormalizedSignal` or raises `SignalRejected`
with the exact 400 error string of SPEC §3. No Django, no clock: `received_at` is passed in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from optionsengine.lib.money import MoneyParseError, to_decimal
from optionsengine.lib.symbols import normalize_symbol as canonical_symbol

MAX_FUTURE_SKEW = timedelta(minutes=5)
EPOCH_MS_THRESHOLD = 1e12  # below: epoch seconds; at or above: epoch milliseconds

TIMEFRAME_KEYS = ("timeframe", "tf", "interval", "trigger_timeframe", "triggerTimeframe", "meta.timeframe")
SESSION_WORDS = {"OPEN", "PRE", "POST", "REGULAR", "MIDDAY", "CLOSE", "RTH", "ETH"}
DIRECTION_ALIASES = (
    "direction", "side", "trend", "bias", "signal.type", "signal.direction", "signal.side",
    "regime_context.local_bias", "execution_guidance.bias", "order_action", "strategy.order_action",
    "action", "event.phase_name", "market.market_bias", "market.spy_trend", "market.qqq_trend",
    "candle.pattern_bias",
)
LONG_WORDS = {"long", "bull", "bullish", "up", "buy", "call", "markup", "breakout"}
SHORT_WORDS = {"short", "bear", "bearish", "down", "sell", "put", "markdown", "breakdown"}
NUMERIC_FIELDS = ("price", "strike", "confidence", "score")
PRICE_FIELDS = ("price", "strike")  # must be > 0 and fit the price columns (numeric(14,4))
MAX_PRICE = 10**9
MAX_ABS_NUMBER = 10**9
MAX_TIMEFRAME_COUNT = 99_999  # keeps the canonical string short enough for its column
MAX_TIMEFRAME_TEXT = 24  # "99999 minutes" fits; longer text is never a timeframe
STRING_FIELDS = ("symbol", "ticker", "direction", "side", "trend", "bias", "action", "order_action", "pattern", "session")
# Containers we read (metadata.*) or the original schema typed as objects (indicators).
OBJECT_FIELDS = ("metadata", "indicators")
# Containers we only look into for a nested alias (`event.phase_name`, `strategy.order_action`, …).
# Real indicators also send these as plain strings: the Multi-Timeframe Trend Dots indicator sends
# `"event": "trend_change"`, and strategy alerts name themselves in `strategy`. A string simply has
# no nested alias; only a number, boolean or list is an impossible type.
OBJECT_OR_STRING_FIELDS = ("meta", "regime_context", "execution_guidance", "strategy", "event", "market", "candle")
TEXT_ID_MAX = 128

MISSING_SYMBOL = "Missing symbol"
INVALID_TIMEFRAME = "Missing or invalid timeframe"
INVALID_DIRECTION = "Missing or invalid direction"
INVALID_TIMESTAMP = "Invalid timestamp"
INVALID_PAYLOAD = "Invalid payload"


class SignalRejected(Exception):
    """A 400: `error` is the SPEC string, `details` the field-level list, plus what was known."""

    def __init__(self, error: str, details: list[dict] | None = None, *, known: dict | None = None):
        super().__init__(error)
        self.error = error
        self.details = details or []
        self.known = known or {}


@dataclass(frozen=True)
class TestMeta:
    is_test: bool = False
    test_session_id: str | None = None
    test_scenario: str | None = None


@dataclass(frozen=True)
class NormalizedSignal:
    symbol: str
    direction: str  # "long" | "short"
    timeframe: str  # canonical: 5m, 1h, 1d, 1w, 1mo
    timestamp: datetime  # aware UTC
    test: TestMeta = field(default_factory=TestMeta)


def _get(payload: dict, dotted: str):
    node: object = payload
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _signal_object(payload: dict) -> dict:
    """`signal` may be an object or a plain string, read as `signal.type`."""
    value = payload.get("signal")
    if isinstance(value, str):
        return {"type": value}
    return value if isinstance(value, dict) else {}


def check_types(payload: dict) -> list[dict]:
    """Field-level type errors for the fields we read; unknown keys are allowed and kept."""
    errors: list[dict] = []

    def bad(path: str, message: str) -> None:
        errors.append({"field": path, "message": message})

    for key in STRING_FIELDS:
        if payload.get(key) is not None and not isinstance(payload[key], str):
            bad(key, "must be a string")
    for key in OBJECT_FIELDS:
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            bad(key, "must be an object")
    for key in OBJECT_OR_STRING_FIELDS:
        if payload.get(key) is not None and not isinstance(payload[key], dict | str):
            bad(key, "must be an object or a string")
    if payload.get("signal") is not None and not isinstance(payload["signal"], dict | str):
        bad("signal", "must be an object or a string")
    for key in NUMERIC_FIELDS:
        if payload.get(key) is not None:
            try:
                number = to_decimal(payload[key])
            except MoneyParseError:
                bad(key, "must be a number")
                continue
            if key in PRICE_FIELDS and not 0 < number < MAX_PRICE:
                bad(key, f"must be greater than 0 and less than {MAX_PRICE}")
            elif abs(number) >= MAX_ABS_NUMBER:
                bad(key, f"must be between -{MAX_ABS_NUMBER} and {MAX_ABS_NUMBER}")
    for key in TIMEFRAME_KEYS:
        value = _get(payload, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
            bad(key, "must be a string or a number")
    meta_ticker = _get(payload, "meta.ticker")
    if meta_ticker is not None and not isinstance(meta_ticker, str):
        bad("meta.ticker", "must be a string")
    for scope, obj in (("", payload), ("metadata.", payload.get("metadata"))):
        if not isinstance(obj, dict):
            continue
        if obj.get("is_test") is not None and _parse_bool(obj["is_test"]) is None:
            bad(f"{scope}is_test", "must be true or false")
        for key in ("test_session_id", "test_scenario"):
            value = obj.get(key)
            if value is not None and (not isinstance(value, str) or not 0 < len(value) <= TEXT_ID_MAX):
                bad(f"{scope}{key}", f"must be a string of 1-{TEXT_ID_MAX} characters")
    timestamp = payload.get("timestamp")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, str | int | float)):
        bad("timestamp", "must be a string or a number")
    return errors


def _parse_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def extract_test_meta(payload: dict) -> TestMeta:
    """The one definition of test traffic: top-level fields win over `metadata.*`."""
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}

    def pick(key: str):
        return payload[key] if payload.get(key) is not None else metadata.get(key)

    raw_flag = pick("is_test")
    is_test = bool(_parse_bool(raw_flag)) if raw_flag is not None else False
    session_id, scenario = pick("test_session_id"), pick("test_scenario")
    return TestMeta(
        is_test=is_test,
        test_session_id=session_id if isinstance(session_id, str) else None,
        test_scenario=scenario if isinstance(scenario, str) else None,
    )


def normalize_symbol(payload: dict) -> str:
    for key in ("symbol", "ticker", "meta.ticker"):
        value = _get(payload, key)
        if isinstance(value, str) and value.strip():
            symbol = canonical_symbol(value)
            if symbol is None:
                raise SignalRejected(
                    INVALID_PAYLOAD, [{"field": key, "message": "symbol must match ^[A-Z0-9.^/_-]{1,20}$"}]
                )
            return symbol
    raise SignalRejected(MISSING_SYMBOL, [{"field": "symbol", "message": "symbol is required"}])


_UNIT_WORDS = {
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "hourly": "h",
    "d": "d", "day": "d", "days": "d", "daily": "d",
    "w": "w", "wk": "w", "week": "w", "weeks": "w", "weekly": "w",
    "mo": "mo", "mon": "mo", "month": "mo", "months": "mo", "monthly": "mo",
}
_TIMEFRAME_RE = re.compile(r"^(\d*)\s*([A-Za-z]*)$")


def _minutes_to_canonical(minutes: int) -> str:
    if not 0 < minutes <= MAX_TIMEFRAME_COUNT:
        raise SignalRejected(INVALID_TIMEFRAME)
    if minutes >= 60 and minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def canonical_timeframe(raw: str | int | float) -> str:
    """One canonical form per interval so dedup and setup types agree (`60` → `1h`, `M` → `1mo`)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not math.isfinite(raw) or abs(raw) > MAX_TIMEFRAME_COUNT:
            raise SignalRejected(INVALID_TIMEFRAME)
        return _minutes_to_canonical(round(raw))
    text = str(raw).split(",", 1)[0].strip()
    if len(text) > MAX_TIMEFRAME_TEXT:  # also keeps int() far from its 4 300-digit limit
        raise SignalRejected(INVALID_TIMEFRAME)
    match = _TIMEFRAME_RE.match(text)
    if not text or not match:
        raise SignalRejected(INVALID_TIMEFRAME)
    count_text, unit_text = match.groups()
    count = int(count_text) if count_text else 1
    if not count_text and not unit_text:
        raise SignalRejected(INVALID_TIMEFRAME)
    if not unit_text:
        return _minutes_to_canonical(count)
    # TradingView writes months as upper-case M ("M", "1M"); lower-case "1m" is one minute.
    unit = "mo" if unit_text == "M" else _UNIT_WORDS.get(unit_text.lower())
    if unit is None or not 0 < count <= MAX_TIMEFRAME_COUNT:
        raise SignalRejected(INVALID_TIMEFRAME)
    if unit == "m":
        return _minutes_to_canonical(count)
    if unit == "h":
        return f"{count}h"
    return f"{count}{unit}"


def normalize_timeframe(payload: dict) -> str:
    for key in TIMEFRAME_KEYS:
        value = _get(payload, key)
        if value is not None:
            return canonical_timeframe(value)
    session = payload.get("session")
    if isinstance(session, str) and session.strip().upper() in SESSION_WORDS:
        return "1d"  # session-only alerts (open/close pings) are daily by convention
    if isinstance(payload.get("strat_details"), dict):
        return "1d"
    raise SignalRejected(INVALID_TIMEFRAME)


def _word_direction(word: str) -> str | None:
    if word in LONG_WORDS:
        return "long"
    if word in SHORT_WORDS:
        return "short"
    return None


def normalize_direction(payload: dict) -> str:
    """First present alias decides; `pattern` is consulted only when no alias is present."""
    signal = _signal_object(payload)
    for alias in DIRECTION_ALIASES:
        value = signal.get(alias.split(".", 1)[1]) if alias.startswith("signal.") else _get(payload, alias)
        if value is None:
            continue
        word = value.strip().lower() if isinstance(value, str) else ""
        if not word:
            action = payload.get("action")
            word = action.strip().lower() if isinstance(action, str) else ""
        direction = _word_direction(word)
        if direction is None:
            raise SignalRejected(INVALID_DIRECTION)
        return direction
    pattern = signal.get("pattern", payload.get("pattern"))
    if isinstance(pattern, str):
        lowered = pattern.lower()
        if "bear" in lowered or "short" in lowered:
            return "short"
        if "bull" in lowered or "long" in lowered:
            return "long"
    raise SignalRejected(INVALID_DIRECTION)


def normalize_timestamp(value, received_at: datetime) -> datetime:
    if value is None or (isinstance(value, str) and not value.strip()):
        return received_at
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
            number = float(value)
            seconds = number if number < EPOCH_MS_THRESHOLD else number / 1000
            parsed = datetime.fromtimestamp(seconds, tz=UTC)
        else:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError, TypeError):
        raise SignalRejected(INVALID_TIMESTAMP, [{"field": "timestamp", "message": "unparseable timestamp"}]) from None
    if parsed - received_at > MAX_FUTURE_SKEW:
        raise SignalRejected(INVALID_TIMESTAMP, [{"field": "timestamp", "message": "more than 5 minutes in the future"}])
    return parsed


def normalize_signal(payload: dict, received_at: datetime) -> NormalizedSignal:
    """Validate and normalize in SPEC order; a rejection carries what was known for the audit row."""
    errors = check_types(payload)
    if errors:
        raise SignalRejected(INVALID_PAYLOAD, errors)
    test = extract_test_meta(payload)
    known: dict = {"test": test}
    try:
        known["symbol"] = normalize_symbol(payload)
        known["timeframe"] = normalize_timeframe(payload)
        known["direction"] = normalize_direction(payload)
        timestamp = normalize_timestamp(payload.get("timestamp"), received_at)
    except SignalRejected as rejection:
        rejection.known = known
        raise
    return NormalizedSignal(known["symbol"], known["direction"], known["timeframe"], timestamp, test)
