"""V3 and legacy V1 payload validation and normalization (pure: no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bias_app.engines.normalize import InvalidBiasPayload, event_id_for, parse_bias_payload
from optionsengine.lib.symbols import normalize_symbol
from tests.bias_app.builders import BASE_TS_MS, NOW_MS, drop, v1_payload, v3_payload


def issues_of(payload, kind="bias_v3") -> dict[str, str]:
    with pytest.raises(InvalidBiasPayload) as invalid:
        parse_bias_payload(payload, kind=kind, now_ms=NOW_MS)
    return {issue.field: issue.message for issue in invalid.value.issues}


def test_the_recorded_v3_payload_is_valid_and_keyed_by_the_hash_of_its_raw_id():
    payload = v3_payload()
    event = parse_bias_payload(payload, kind="bias_v3", now_ms=NOW_MS)
    assert event.symbol == "SPY"
    assert event.event_ts_ms == BASE_TS_MS
    assert event.event_id == event_id_for(payload["event_id_raw"])
    assert len(event.event_id) == 64
    assert event.source == "MTF_BIAS_ENGINE_V3"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("event_type", "BIAS_UPDATE"),
        ("session", "rth"),
        ("mtf.consensus.bias_consensus", "HOLD"),
        ("mtf.timeframes.0.bias", "UP"),
        ("mtf.timeframes.0.structure", "HH"),
        ("mtf.timeframes.0.momentum", "FAST"),
        ("mtf.timeframes.0.volatility", "HIGH"),
        ("mtf.regime.type", "BREAKOUT"),
        ("mtf.regime.atr_state_15m", "WILD"),
        ("macro.timeframes.0.bias", "SIDEWAYS"),
        ("macro.state.macro_class", "MACRO_UP"),
        ("levels.vwap.position", "AT"),
        ("levels.orb.state", "BREAK_UP"),
        ("trigger.bar_type", "2"),
        ("trigger.pattern", "2-2_UP"),
        ("space.room_to_resistance", "NONE"),
        ("space.room_to_support", "low"),
        ("intent.type", "CONTINUATION"),
        ("intent.trend_phase", "LATE_STAGE"),
        ("risk_context.invalidation.method", "ATR"),
        ("risk_context.entry_mode_hint", "SCALP"),
    ],
)
def test_every_v3_enum_rejects_a_value_outside_its_vocabulary(path, value):
    field = path.replace(".0.", "[0].")
    assert "must be one of" in issues_of(v3_payload({path: value}))[field]


@pytest.mark.parametrize(
    ("path", "low_ok", "high_ok", "low_bad", "high_bad"),
    [
        ("mtf.consensus.bias_score", -100, 100, -100.01, 100.01),
        ("mtf.consensus.confidence_score", 0, 1, -0.01, 1.01),
        ("mtf.consensus.alignment_score", 0, 100, -1, 101),
        ("mtf.consensus.conflict_score", 0, 100, -1, 101),
        ("mtf.regime.chop_score", 0, 100, -0.5, 100.5),
        ("mtf.timeframes.0.strength", 0, 100, -1, 101),
        ("macro.state.macro_confidence", 0, 1, -0.1, 1.1),
        ("intent.confidence", 0, 1, -0.1, 1.5),
    ],
)
def test_every_v3_range_is_inclusive_at_its_bounds(path, low_ok, high_ok, low_bad, high_bad):
    for ok in (low_ok, high_ok):
        parse_bias_payload(v3_payload({path: ok}), kind="bias_v3", now_ms=NOW_MS)
    field = path.replace(".0.", "[0].")
    for bad in (low_bad, high_bad):
        assert "must be between" in issues_of(v3_payload({path: bad}))[field]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("mtf.consensus.bias_score", "62", "must be a finite number"),  # quoted numbers are not numbers
        ("mtf.consensus.bias_score", float("nan"), "must be a finite number"),
        ("mtf.consensus.bias_score", True, "must be a finite number"),
        ("liquidity.reclaim", 1, "must be true or false"),
        ("trigger.triggered", "true", "must be true or false"),
        ("symbol", "", "must not be empty"),
        ("event_ts_ms", 1773412140000.5, "must be an integer"),
        ("event_ts_ms", 1773412140, "must be epoch milliseconds (an integer >= 1000000000000)"),
        ("mtf.timeframes", [], "must have at least 1 item(s)"),
        ("mtf.consensus", "BULLISH", "must be an object"),
        ("levels.vwap.value", drop(), "is required"),  # nullable means present-but-null, not absent
        ("mtf.regime.chop_score", None, "must not be null"),
        ("bar", drop(), "is required"),
    ],
)
def test_wrong_types_and_missing_fields_are_reported_field_by_field(path, value, message):
    assert issues_of(v3_payload({path: value}))[path] == message


@pytest.mark.parametrize("source", ["MTF_BIAS_ENGINE_V1", "MTF_BIAS_ENGINE_V3.1", "TRADINGVIEW", None])
def test_a_v3_shaped_payload_from_another_source_is_invalid(source):
    assert issues_of(v3_payload({"source": source}))["source"] in {"must be MTF_BIAS_ENGINE_V3", "must not be null"}


def test_all_issues_are_reported_at_once():
    fields = issues_of(v3_payload({"session": "X", "intent.type": "Y", "mtf.consensus.bias_score": 500}))
    assert set(fields) == {"session", "intent.type", "mtf.consensus.bias_score"}


def test_optional_keys_may_be_absent_and_null_levels_are_kept():
    payload = v3_payload({
        "exchange": drop(), "mtf.regime.adx_15m": drop(), "mtf.regime.atr_state_15m": drop(),
        "macro.timeframes": drop(), "levels.swings": drop(), "levels.vwap.value": None,
    })
    core = parse_bias_payload(payload, kind="bias_v3", now_ms=NOW_MS).core
    assert core["adx15m"] is None and core["atrState15m"] is None
    assert core["levels"]["swings"] == dict.fromkeys(core["levels"]["swings"])
    assert core["levels"]["vwap"]["value"] is None


def test_unknown_keys_are_dropped_from_the_state():
    core = parse_bias_payload(v3_payload({"extra": 1, "mtf.consensus.extra": 2}), kind="bias_v3", now_ms=NOW_MS).core
    assert "extra" not in core


def test_decimal_numbers_from_a_decimal_json_parser_are_accepted_as_plain_numbers():
    core = parse_bias_payload(
        v3_payload({"mtf.consensus.bias_score": Decimal("62"), "mtf.consensus.confidence_score": Decimal("0.71")}),
        kind="bias_v3", now_ms=NOW_MS,
    ).core
    assert core["biasScore"] == 62 and isinstance(core["biasScore"], int)
    assert core["confidence"] == 0.71


@pytest.mark.parametrize(
    ("ts_ms", "valid"),
    [(NOW_MS + 5 * 60 * 1000, True), (NOW_MS + 5 * 60 * 1000 + 1, False)],
)
def test_an_event_more_than_five_minutes_in_the_future_is_refused(ts_ms, valid):
    payload = v3_payload(ts_ms=ts_ms)
    if valid:
        parse_bias_payload(payload, kind="bias_v3", now_ms=NOW_MS)
    else:
        assert issues_of(payload)["event_ts_ms"] == "must not be more than 5 minutes in the future"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("SPY", "SPY"), (" spy ", "SPY"), ("AMEX:SPY", "SPY"), ("brk.b", "BRK.B"), ("SP Y", None), ("", None), (7, None)],
)
def test_symbols_are_normalized_like_trade_signals(raw, expected):
    assert normalize_symbol(raw) == expected


def test_an_unusable_symbol_is_a_field_error_even_next_to_other_errors():
    assert "symbol" in issues_of(v3_payload({"symbol": "NOT A SYMBOL"}))
    assert set(issues_of(v3_payload({"symbol": "NOT A SYMBOL", "session": "X"}))) == {"symbol", "session"}


def test_a_future_timestamp_is_reported_next_to_other_errors():
    assert set(issues_of(v3_payload({"session": "X"}, ts_ms=NOW_MS + 3_600_000))) == {"session", "event_ts_ms"}


def test_a_body_that_is_not_an_object_is_invalid():
    assert issues_of(["not", "an", "object"]) == {"(body)": "must be an object"}


# --- legacy V1 -----------------------------------------------------------------------------

def test_the_recorded_v1_payload_maps_into_the_unified_vocabulary():
    event = parse_bias_payload(v1_payload(), kind="bias_legacy", now_ms=NOW_MS)
    core = event.core
    assert event.source == "MTF_BIAS_ENGINE_V1"
    assert (core["bias"], core["biasScore"], core["confidence"]) == ("BEARISH", -44, 0.58)
    assert core["regimeType"] == "TREND" and core["legacyRegimeType"] == "BREAKDOWN"
    assert core["levels"]["vwap"]["position"] == "BELOW"
    assert core["levels"]["orb"]["state"] == "BROKE_DOWN"
    assert core["levels"]["orb"]["mid"] == 523.0
    assert core["riskContext"] == {"invalidation": {"level": 524.2, "method": "NA"}, "entryModeHint": "BREAKOUT"}
    assert core["macroClass"] is None and core["intentType"] is None  # V1 has no such fields


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"schema_version": "2"}, "schema_version"),
        ({"mtf.consensus.bias_consensus": "SIDEWAYS"}, "mtf.consensus.bias_consensus"),
        ({"mtf.regime.type": "CHOP"}, "mtf.regime.type"),
        ({"levels.vwap.position": "CROSSING"}, "levels.vwap.position"),
        ({"risk_context.invalidation.level": None}, "risk_context.invalidation.level"),
        ({"risk_context.entry_mode_hint": "NO_TRADE"}, "risk_context.entry_mode_hint"),
        ({"mtf.consensus.bias_score": -101}, "mtf.consensus.bias_score"),
        ({"event_type": ""}, "event_type"),
    ],
)
def test_v1_payloads_are_held_to_the_v1_schema(changes, field):
    assert field in issues_of(v1_payload(changes), kind="bias_legacy")


@pytest.mark.parametrize(("v1", "unified"), [("HOLD", "NEUTRAL"), ("BULLISH", "BULLISH"), ("NEUTRAL", "NEUTRAL")])
def test_v1_hold_becomes_neutral(v1, unified):
    event = parse_bias_payload(v1_payload({"mtf.consensus.bias_consensus": v1}), kind="bias_legacy", now_ms=NOW_MS)
    assert event.core["bias"] == unified
