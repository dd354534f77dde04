"""The bundled demo session is a valid alert file: every alert loads, and every alert the session
expects to be accepted parses as TradingView's payload it imitates (no database)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from bias_app.engines.schemas import V3_SCHEMA
from bias_app.engines.validation import validate
from optionsengine.demo.alerts import AlertFileError, load_session, parse_session
from optionsengine.lib.market_calendar import MARKET_TZ
from optionsengine.management.commands.demo import BUNDLED_SESSION
from signals_app.engines.normalize import SignalRejected, normalize_signal

SESSION = load_session(BUNDLED_SESSION)
TREND_DOTS = "trend_change"


def _is_trend_dots(alert) -> bool:
    return (alert.payload or {}).get("event") == TREND_DOTS


def test_bundled_session_is_one_new_york_trading_day_of_realistic_alerts():
    days = {a.at.astimezone(MARKET_TZ).date() for a in SESSION.alerts}
    assert len(days) == 1
    trades = [a for a in SESSION.alerts if not a.is_bias]
    assert 40 <= len(trades) <= 80
    assert len({(a.payload or {}).get("ticker") or (a.payload or {}).get("symbol") for a in trades}) >= 4
    bias_events = Counter(a.payload["event_type"] for a in SESSION.alerts if a.is_bias)
    assert bias_events["BIAS_SNAPSHOT"] > 100 and bias_events["BIAS_CHANGE"] >= 4  # set, then changed
    expectations = Counter(a.expect for a in SESSION.alerts)
    assert expectations["duplicate"] >= 3 and expectations["invalid_payload"] >= 3
    assert expectations["invalid_signature"] >= 1 and expectations["out_of_order"] >= 1
    shapes = {"strategy", "order_action"}
    assert any(shapes & set((a.payload or {}).get("strategy", {})) or "order_action" in str(a.payload) for a in trades)
    assert sum(_is_trend_dots(a) for a in trades) >= 2
    assert SESSION.market_seed == 7 and SESSION.settings["AB_SPLIT_PERCENTAGE"] == 50


def test_every_trade_alert_expected_to_be_accepted_parses():
    failures = {}
    alerts = [a for a in SESSION.alerts if a.expect == "accepted" and not a.is_bias and not _is_trend_dots(a)]
    assert len(alerts) >= 40
    for alert in alerts:
        try:
            signal = normalize_signal(alert.payload, alert.at)
            assert signal.symbol and signal.direction in ("long", "short") and signal.timeframe
        except SignalRejected as exc:
            failures[alert.index] = (exc.error, exc.details)
    assert not failures


def test_every_bias_alert_expected_to_be_accepted_is_a_valid_v3_payload():
    failures = {}
    alerts = [a for a in SESSION.alerts if a.expect == "accepted" and a.is_bias]
    assert len(alerts) >= 200
    for alert in alerts:
        _, issues = validate(V3_SCHEMA, alert.payload)
        if issues:
            failures[alert.index] = issues
    assert not failures


def test_trend_dots_alerts_parse():
    for alert in (a for a in SESSION.alerts if _is_trend_dots(a)):
        normalize_signal(alert.payload, alert.at)


@pytest.mark.parametrize("alert", [a for a in SESSION.alerts if a.expect == "invalid_payload" and not a.is_bias and a.raw is None],
                         ids=lambda a: f"line{a.index}")
def test_alerts_expected_invalid_are_invalid(alert):
    with pytest.raises(SignalRejected):
        normalize_signal(alert.payload, alert.at)


def test_a_bare_list_of_recorded_payloads_replays_at_their_own_timestamps():
    session = parse_session([
        {"ticker": "SPY", "interval": "5", "direction": "long", "timestamp": "2026-03-10T14:35:00Z"},
        {"ticker": "QQQ", "interval": "5", "direction": "short", "timestamp": 1773153300},
        {"event_id_raw": "X", "event_ts_ms": 1773153000000, "symbol": "SPY"},
    ])
    assert [a.at for a in session.alerts] == [
        datetime(2026, 3, 10, 14, 30, tzinfo=UTC), datetime(2026, 3, 10, 14, 35, tzinfo=UTC),
        datetime(2026, 3, 10, 14, 35, tzinfo=UTC)]
    assert session.alerts[0].is_bias and session.alerts[0].path == "/webhook"


def test_naive_times_are_new_york_and_the_demo_secret_replaces_a_recorded_one():
    session = parse_session({"alerts": [{"at": "2026-03-10T09:45:00", "payload": {"ticker": "SPY", "secret": "mine"}}]})
    alert = session.alerts[0]
    assert alert.at == datetime(2026, 3, 10, 13, 45, tzinfo=UTC)
    body, content_type = alert.body("demo")
    assert json.loads(body)["secret"] == "demo" and content_type == "application/json"


@pytest.mark.parametrize(("data", "message"), [
    ({"alerts": []}, "no alerts"),
    ({"nope": 1}, "alerts"),
    ([{"ticker": "SPY"}], "no usable timestamp"),
    ([{"at": "2026-03-10T10:00:00Z", "payload": {}, "path": "/elsewhere"}], "path"),
    ([{"at": "2026-03-10T10:00:00Z", "payload": [1]}], "must be an object"),
    ({"settings": {"SECRET_KEY": "x"}, "alerts": [{"at": "2026-03-10T10:00:00Z", "raw": "x"}]}, "may pin only"),
    ([{"at": "yesterday", "raw": "x"}], "not ISO-8601"),
])
def test_unreplayable_files_are_refused_with_the_reason(data, message):
    with pytest.raises(AlertFileError, match=message):
        parse_session(data)
