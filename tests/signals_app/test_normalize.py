"""Table-driven proof of every SPEC §3 normalization rule (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from signals_app.engines.normalize import (
    INVALID_DIRECTION,
    INVALID_PAYLOAD,
    INVALID_TIMEFRAME,
    INVALID_TIMESTAMP,
    MISSING_SYMBOL,
    SignalRejected,
    canonical_timeframe,
    extract_test_meta,
    normalize_direction,
    normalize_signal,
    normalize_symbol,
    normalize_timeframe,
    normalize_timestamp,
)

NOW = datetime(2026, 3, 13, 14, 30, tzinfo=UTC)
BASE = {"symbol": "SPY", "timeframe": "5", "direction": "long"}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"symbol": "SPY"}, "SPY"),
        ({"symbol": "  spy "}, "SPY"),
        ({"symbol": "NASDAQ:AAPL"}, "AAPL"),
        ({"ticker": "AMEX:spy"}, "SPY"),
        ({"meta": {"ticker": "nyse:brk.b"}}, "BRK.B"),
        ({"symbol": "BINANCE:BTC/USDT"}, "BTC/USDT"),
        ({"symbol": "^SPX"}, "^SPX"),
        ({"symbol": "", "ticker": "QQQ"}, "QQQ"),
        ({"symbol": "SPY", "ticker": "QQQ"}, "SPY"),
    ],
)
def test_symbol_is_trimmed_upper_cased_and_loses_its_exchange_prefix(payload, expected):
    assert normalize_symbol(payload) == expected


def test_missing_symbol_is_rejected_with_the_spec_message():
    with pytest.raises(SignalRejected) as rejected:
        normalize_symbol({"timeframe": "5"})
    assert rejected.value.error == MISSING_SYMBOL


@pytest.mark.parametrize("bad", ["SPY SPY", "TOO_LONG_SYMBOL_NAME_XYZ", "SP$Y"])
def test_symbol_outside_the_allowed_alphabet_is_an_invalid_payload(bad):
    with pytest.raises(SignalRejected) as rejected:
        normalize_symbol({"symbol": bad})
    assert rejected.value.error == INVALID_PAYLOAD
    assert rejected.value.details[0]["field"] == "symbol"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "1m"), ("5", "5m"), (5, "5m"), (5.4, "5m"), ("5m", "5m"), ("5min", "5m"), ("5 minutes", "5m"),
        ("15", "15m"), ("45", "45m"), ("60", "1h"), ("60m", "1h"), (60, "1h"), ("120", "2h"), ("240", "4h"),
        ("240m", "4h"), ("90", "90m"), ("1h", "1h"), ("1H", "1h"), ("1hr", "1h"), ("1hour", "1h"), ("4h", "4h"),
        ("D", "1d"), ("1D", "1d"), ("1d", "1d"), ("day", "1d"), ("daily", "1d"), ("2D", "2d"),
        ("W", "1w"), ("1W", "1w"), ("week", "1w"),
        ("M", "1mo"), ("1M", "1mo"), ("3M", "3mo"), ("1mo", "1mo"), ("month", "1mo"),
        ("1m", "1m"), ("3m,5m", "3m"), ("60, 240", "1h"),
    ],
)
def test_timeframe_has_one_canonical_form(raw, expected):
    assert canonical_timeframe(raw) == expected


@pytest.mark.parametrize("raw", ["banana", "", "0", 0, "5x", "1.5h", "-5", float("nan"), ",5m"])
def test_unknown_timeframe_formats_are_rejected(raw):
    with pytest.raises(SignalRejected) as rejected:
        canonical_timeframe(raw)
    assert rejected.value.error == INVALID_TIMEFRAME


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"timeframe": "5", "tf": "15"}, "5m"),
        ({"tf": "15"}, "15m"),
        ({"interval": "60"}, "1h"),
        ({"trigger_timeframe": "3m,5m"}, "3m"),
        ({"triggerTimeframe": "240"}, "4h"),
        ({"meta": {"timeframe": "D"}}, "1d"),
        ({"session": "RTH"}, "1d"),
        ({"session": "open"}, "1d"),
        ({"strat_details": {"x": 1}}, "1d"),
    ],
)
def test_timeframe_comes_from_the_first_present_alias_or_the_session_fallback(payload, expected):
    assert normalize_timeframe(payload) == expected


@pytest.mark.parametrize("payload", [{}, {"session": "POWER_HOUR"}, {"timeframe": None}])
def test_absent_timeframe_is_rejected(payload):
    with pytest.raises(SignalRejected) as rejected:
        normalize_timeframe(payload)
    assert rejected.value.error == INVALID_TIMEFRAME


LONG_WORDS = ["long", "bull", "bullish", "up", "buy", "call", "markup", "breakout"]
SHORT_WORDS = ["short", "bear", "bearish", "down", "sell", "put", "markdown", "breakdown"]


@pytest.mark.parametrize(("word", "expected"), [(w, "long") for w in LONG_WORDS] + [(w, "short") for w in SHORT_WORDS])
def test_every_vocabulary_word_maps_to_its_direction_in_any_case(word, expected):
    assert normalize_direction({"direction": word}) == expected
    assert normalize_direction({"direction": f"  {word.upper()} "}) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"direction": "long"}, "long"),
        ({"side": "SELL"}, "short"),
        ({"trend": "BULL"}, "long"),
        ({"bias": "bearish"}, "short"),
        ({"signal": {"type": "BUY"}}, "long"),
        ({"signal": "bearish"}, "short"),
        ({"signal": {"direction": "up"}}, "long"),
        ({"signal": {"side": "put"}}, "short"),
        ({"regime_context": {"local_bias": "BULLISH"}}, "long"),
        ({"execution_guidance": {"bias": "bearish"}}, "short"),
        ({"order_action": "buy"}, "long"),
        ({"strategy": {"order_action": "sell"}}, "short"),
        ({"action": "BUY"}, "long"),
        ({"action": "buy"}, "long"),
        ({"action": "Sell"}, "short"),
        ({"event": {"phase_name": "MARKUP"}}, "long"),
        ({"market": {"market_bias": "bearish"}}, "short"),
        ({"market": {"spy_trend": "up"}}, "long"),
        ({"market": {"qqq_trend": "down"}}, "short"),
        ({"candle": {"pattern_bias": "bullish"}}, "long"),
        # First present alias decides, in chain order.
        ({"side": "long", "direction": "short"}, "short"),
        ({"trend": "bear", "signal": {"type": "buy"}}, "short"),
        # An empty alias falls back to `action`.
        ({"direction": "", "action": "sell"}, "short"),
        # Pattern only when no alias is present, and never over an explicit direction.
        ({"pattern": "FVG_BULL"}, "long"),
        ({"signal": {"pattern": "STRAT_BEAR"}}, "short"),
        ({"pattern": "SHORT_SQUEEZE", "direction": "long"}, "long"),
        ({"pattern": "BEAR_TRAP", "side": "buy"}, "long"),
    ],
)
def test_direction_alias_chain(payload, expected):
    assert normalize_direction(payload) == expected


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"direction": "NEUTRAL"},
        {"direction": "NEUTRAL", "side": "LONG"},  # first alias decides, even when useless
        {"direction": "", "action": "hold"},
        {"action": "HOLD"},
        {"pattern": "DOJI"},
    ],
)
def test_neutral_or_unusable_direction_is_rejected(payload):
    with pytest.raises(SignalRejected) as rejected:
        normalize_direction(payload)
    assert rejected.value.error == INVALID_DIRECTION


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, NOW),
        ("", NOW),
        (1773412200, datetime(2026, 3, 13, 14, 30, tzinfo=UTC)),
        ("1773412200", datetime(2026, 3, 13, 14, 30, tzinfo=UTC)),
        (1773412200000, datetime(2026, 3, 13, 14, 30, tzinfo=UTC)),
        ("1773412200500", datetime(2026, 3, 13, 14, 30, 0, 500000, tzinfo=UTC)),
        ("2026-03-13T14:30:00Z", datetime(2026, 3, 13, 14, 30, tzinfo=UTC)),
        ("2026-03-13T10:30:00-04:00", datetime(2026, 3, 13, 14, 30, tzinfo=UTC)),
        ("2026-03-13T14:30:00", datetime(2026, 3, 13, 14, 30, tzinfo=UTC)),
        ("2026-03-13T14:34:59Z", datetime(2026, 3, 13, 14, 34, 59, tzinfo=UTC)),
        ("2020-01-01T00:00:00Z", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
def test_timestamps_in_seconds_milliseconds_and_iso(value, expected):
    assert normalize_timestamp(value, NOW) == expected


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45", "12:00", NOW.timestamp() + 301, (NOW + timedelta(minutes=6)).isoformat()])
def test_garbage_or_far_future_timestamps_are_rejected(value):
    with pytest.raises(SignalRejected) as rejected:
        normalize_timestamp(value, NOW)
    assert rejected.value.error == INVALID_TIMESTAMP


@pytest.mark.parametrize(
    ("payload", "is_test", "session", "scenario"),
    [
        ({}, False, None, None),
        ({"is_test": True, "test_session_id": "s1"}, True, "s1", None),
        ({"is_test": "true"}, True, None, None),
        ({"is_test": "false"}, False, None, None),
        ({"metadata": {"is_test": True, "test_session_id": "m1", "test_scenario": "sc"}}, True, "m1", "sc"),
        ({"is_test": False, "metadata": {"is_test": True}}, False, None, None),
    ],
)
def test_test_traffic_has_one_definition_top_level_first(payload, is_test, session, scenario):
    meta = extract_test_meta(payload)
    assert (meta.is_test, meta.test_session_id, meta.test_scenario) == (is_test, session, scenario)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"price": "abc"}, "price"),
        ({"price": True}, "price"),
        ({"strike": [1]}, "strike"),
        ({"signal": 5}, "signal"),
        ({"is_test": "yes"}, "is_test"),
        ({"metadata": "x"}, "metadata"),
        ({"test_session_id": 7}, "test_session_id"),
        ({"symbol": 123}, "symbol"),
        ({"meta": {"ticker": 5}}, "meta.ticker"),
        ({"timeframe": {"x": 1}}, "timeframe"),
        ({"indicators": "rsi"}, "indicators"),
        ({"event": 5}, "event"),
        ({"strategy": ["a"]}, "strategy"),
        ({"market": True}, "market"),
    ],
)
def test_fields_of_impossible_types_reject_the_payload_with_details(extra, field):
    with pytest.raises(SignalRejected) as rejected:
        normalize_signal({**BASE, **extra}, NOW)
    assert rejected.value.error == INVALID_PAYLOAD
    assert field in [d["field"] for d in rejected.value.details]


def test_quoted_numbers_are_accepted_where_templates_quote_placeholders():
    signal = normalize_signal({**BASE, "price": "601.25", "strike": "600", "confidence": "0.8", "score": 72}, NOW)
    assert (signal.symbol, signal.direction, signal.timeframe) == ("SPY", "long", "5m")


def test_a_rejection_carries_what_was_known_for_the_audit_row():
    with pytest.raises(SignalRejected) as rejected:
        normalize_signal({"symbol": "NASDAQ:qqq", "timeframe": "60", "direction": "sideways", "is_test": True}, NOW)
    assert rejected.value.known["symbol"] == "QQQ"
    assert rejected.value.known["timeframe"] == "1h"
    assert "direction" not in rejected.value.known
    assert rejected.value.known["test"].is_test is True


TREND_DOTS = orjson.loads((Path(__file__).resolve().parents[1] / "data" / "webhooks" / "mtf_trend_dots_trend_change.json").read_bytes())


def test_a_real_trend_dots_alert_with_a_string_event_normalizes():
    signal = normalize_signal(TREND_DOTS, NOW)
    assert (signal.symbol, signal.direction, signal.timeframe) == ("SPY", "long", "3m")


@pytest.mark.parametrize("key", ["meta", "regime_context", "execution_guidance", "strategy", "event", "market", "candle"])
def test_alias_containers_may_be_strings_and_then_hold_no_alias(key):
    signal = normalize_signal({**BASE, key: "trend_change"}, NOW)
    assert signal.direction == "long"


def test_a_string_event_is_not_read_as_a_direction_alias():
    with pytest.raises(SignalRejected) as rejected:
        normalize_signal({"symbol": "SPY", "timeframe": "5", "event": "markup"}, NOW)
    assert rejected.value.error == INVALID_DIRECTION
