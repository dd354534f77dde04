"""Builds the bundled demo session (`optionsengine/demo/session.json`): one New York trading day of
TradingView alerts, written out verbatim so the demo replays plain alert bodies (see docs/demo.md).

    .venv/bin/python -m optionsengine.demo.build_session     # rewrites session.json

Deterministic: the same file every time. Prices are read off the simulated market (seed 7, no
anchors), so the prices the alerts carry agree with the market they re-anchor. The bias feed is the
MTF Bias Engine V3 on a 5-minute chart: a BIAS_SNAPSHOT per symbol every bar (the bias goes stale
after 10 minutes in regular hours), BIAS_CHANGE when the consensus flips. Trade alerts come in the
shapes TradingView strategies actually send (reference/ingestion-and-bias.md §3.7).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bias_app.engines.seed import seed_payload
from optionsengine.lib.market_calendar import MARKET_TZ
from optionsengine.marketdata.anchors import StaticAnchors
from optionsengine.marketdata.simulated.provider import SimulatedProvider

SESSION_FILE = Path(__file__).resolve().parent / "session.json"
DAY = date(2026, 3, 10)  # a Tuesday; nothing special about it
SEED = 7
BIAS_SYMBOLS = ("SPY", "QQQ", "AAPL", "NVDA")
EXCHANGES = {"SPY": "AMEX", "QQQ": "NASDAQ", "AAPL": "NASDAQ", "NVDA": "NASDAQ", "TSLA": "NASDAQ", "IWM": "AMEX"}
BIAS_FROM, BIAS_UNTIL = "09:30", "15:35"

# (HH:MM:SS, symbol, with/against the last half hour's move, TradingView interval, shape). Trend and
# momentum indicators fire with the move; every seventh alert is a counter-trend (fade) entry.
TRADES = (
    ("09:41:07", "SPY", "with", "5", "simple"),
    ("09:43:12", "QQQ", "with", "5", "ultimate"),
    ("09:46:40", "NVDA", "with", "3", "orb"),
    ("09:48:02", "AAPL", "with", "15", "strategy"),
    ("09:52:31", "SPY", "with", "1", "trend_dots"),
    ("09:55:18", "TSLA", "with", "5", "simple"),
    ("09:58:44", "QQQ", "against", "15", "saty"),
    ("10:02:05", "NVDA", "with", "5", "strat"),
    ("10:05:39", "SPY", "with", "15", "trend_start"),
    ("10:09:13", "AAPL", "with", "5", "ultimate"),
    ("10:12:57", "QQQ", "with", "5", "simple"),
    ("10:16:21", "SPY", "with", "60", "strategy"),
    ("10:19:48", "NVDA", "with", "15", "simple"),
    ("10:23:30", "AAPL", "against", "3", "trend_dots"),
    ("10:27:02", "QQQ", "with", "3", "orb"),
    ("10:31:44", "SPY", "with", "5", "ultimate"),
    ("10:36:10", "NVDA", "with", "5", "strategy"),
    ("10:40:27", "AAPL", "with", "15", "saty"),
    ("10:44:55", "QQQ", "with", "5", "simple"),
    ("10:49:33", "SPY", "with", "15", "strat"),
    ("10:53:08", "AAPL", "against", "60", "simple"),
    ("10:58:41", "NVDA", "with", "3", "ultimate"),
    ("11:04:16", "QQQ", "with", "15", "trend_start"),
    ("11:09:52", "SPY", "with", "3", "orb"),
    ("11:15:35", "AAPL", "with", "5", "strategy"),
    ("11:21:03", "IWM", "with", "15", "simple"),
    ("11:27:49", "QQQ", "with", "1", "trend_dots"),
    ("11:34:20", "NVDA", "against", "5", "simple"),
    ("11:42:11", "NVDA", "with", "15", "ultimate"),
    ("11:48:37", "SPY", "with", "5", "saty"),
    ("11:55:02", "AAPL", "with", "3", "simple"),
    ("12:03:45", "QQQ", "with", "5", "strategy"),
    ("12:11:19", "NVDA", "with", "5", "orb"),
    ("12:19:58", "SPY", "with", "15", "simple"),
    ("12:28:26", "AAPL", "against", "15", "strat"),
    ("12:37:14", "NVDA", "with", "3", "trend_start"),
    ("12:44:39", "SPY", "with", "5", "ultimate"),
    ("12:52:03", "QQQ", "with", "15", "simple"),
    ("13:01:50", "AAPL", "with", "5", "saty"),
    ("13:09:27", "NVDA", "with", "15", "strategy"),
    ("13:16:44", "QQQ", "with", "5", "ultimate"),
    ("13:24:12", "SPY", "against", "3", "trend_dots"),
    ("13:31:38", "AAPL", "with", "15", "orb"),
    ("13:43:05", "SPY", "with", "5", "simple"),
    ("13:49:51", "QQQ", "with", "15", "strat"),
    ("13:56:29", "NVDA", "with", "5", "simple"),
    ("14:04:13", "SPY", "with", "15", "strategy"),
    ("14:11:46", "AAPL", "with", "5", "trend_start"),
    ("14:19:22", "QQQ", "against", "3", "simple"),
    ("14:26:57", "NVDA", "with", "60", "ultimate"),
    ("14:34:31", "SPY", "with", "5", "simple"),
    ("14:41:08", "QQQ", "with", "5", "orb"),
    ("14:48:44", "AAPL", "with", "3", "strategy"),
    ("14:55:19", "NVDA", "with", "15", "saty"),
    ("15:02:53", "SPY", "with", "3", "ultimate"),
    ("15:10:27", "QQQ", "against", "15", "simple"),
    ("15:18:02", "AAPL", "with", "5", "simple"),
    ("15:26:36", "NVDA", "with", "5", "strat"),
)
# TradingView fires some alerts twice (two alerts on one condition, a re-armed alert): resent
# (seconds later, same key; a few spell the direction differently) → the 60 s duplicate window.
DUPLICATES = (("09:41:07", 4, None), ("10:31:44", 21, "BUY"), ("12:03:45", 2, None), ("14:04:13", 9, "sell"))


def _at(hhmm: str) -> datetime:
    parts = [int(p) for p in hhmm.split(":")]
    return datetime.combine(DAY, time(*parts), tzinfo=MARKET_TZ)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # TradingView's {{timenow}}


class _Market:
    def __init__(self) -> None:
        self._provider = SimulatedProvider(seed=SEED, anchors=StaticAnchors())

    def price(self, symbol: str, moment: datetime) -> float:
        return round(self._provider.spot(symbol, moment), 2)

    def bar(self, symbol: str, end: datetime) -> dict:
        closes = [self._provider.spot(symbol, end - timedelta(minutes=m)) for m in range(5, -1, -1)]
        return {
            "time_ms": int((end - timedelta(minutes=5)).timestamp() * 1000),
            "open": round(closes[0], 2), "high": round(max(closes) * 1.0004, 2), "low": round(min(closes) * 0.9996, 2),
            "close": round(closes[-1], 2), "volume": 150_000 + int(abs(math.sin(end.timestamp())) * 900_000),
        }


def _bias_at(market: _Market, symbol: str, moment: datetime) -> str:
    """The engine's consensus follows the last hour's trend, re-read every half hour; a move under
    0.15 % keeps the previous call (NEUTRAL at the open)."""
    current = "NEUTRAL"
    check = _at(BIAS_FROM) + timedelta(minutes=30)
    while check <= moment:
        change = market.price(symbol, check) / market.price(symbol, check - timedelta(minutes=60)) - 1
        if abs(change) >= 0.0015:
            current = "BULLISH" if change > 0 else "BEARISH"
        check += timedelta(minutes=30)
    return current


def _bias_payload(market: _Market, symbol: str, moment: datetime, bias: str, event_type: str) -> dict:
    ts = int(moment.timestamp() * 1000)
    payload = seed_payload(symbol, bias, event_ts_ms=ts, session="RTH")
    payload.update(event_type=event_type, exchange=EXCHANGES[symbol],
                   event_id_raw=f"MTF_BIAS_ENGINE_V3|{symbol}|5|{ts}|{event_type}")
    bar = market.bar(symbol, moment)
    payload["bar"] = bar
    close = bar["close"]
    atr = round(close * 0.0015, 2)
    for i, frame in enumerate(payload["mtf"]["timeframes"]):
        lean = {"BULLISH": -1, "BEARISH": 1}.get(frame["bias"], 0)
        frame.update(ema21=round(close + lean * atr * (i + 1) * 0.6, 2), ema55=round(close + lean * atr * (i + 1) * 1.4, 2),
                     slope_ema55=round(-lean * 0.05 * (i + 1), 3), atr=round(atr * (1.6 ** i), 2))
    payload["levels"]["vwap"].update(value=round(close * (1 - 0.0008 * {"ABOVE": 1, "BELOW": -1}.get(
        payload["levels"]["vwap"]["position"], 0)), 2), dist_atr=0.55)
    return payload


def _direction(market: _Market, symbol: str, moment: datetime, mode: str) -> str:
    rising = market.price(symbol, moment) >= market.price(symbol, moment - timedelta(minutes=30))
    return "long" if rising == (mode == "with") else "short"


def _trade_payload(market: _Market, spec: tuple, moment: datetime) -> dict:
    _, symbol, mode, interval, shape = spec
    direction = _direction(market, symbol, moment, mode)
    price = market.price(symbol, moment)
    long = direction == "long"
    exchange = EXCHANGES.get(symbol, "NASDAQ")
    stop = round(price * (0.996 if long else 1.004), 2)
    if shape == "simple":  # the README's template: {{ticker}} {{interval}} {{close}} {{timenow}}
        return {"ticker": symbol, "interval": interval, "direction": direction, "price": f"{price}",
                "timestamp": _iso(moment)}
    if shape == "strategy":  # a Pine strategy's alert with {{strategy.order.action}}
        return {"ticker": f"{exchange}:{symbol}", "exchange": exchange, "interval": interval,
                "strategy": {"order_action": "buy" if long else "sell", "order_contracts": "1",
                             "market_position": direction, "prev_market_position": "flat"},
                "price": price, "time": _iso(moment - timedelta(minutes=int(interval))), "timestamp": _iso(moment)}
    if shape == "ultimate":  # Ultimate Options Strategy: source SIGNALS, epoch seconds, pattern
        pattern = ("FVG_BULL" if long else "FVG_BEAR")
        return {"source": "SIGNALS", "indicator": "Ultimate Options Strategy", "ticker": symbol,
                "direction": "LONG" if long else "SHORT", "timeframe": interval, "timestamp": int(moment.timestamp()),
                "price": price, "pattern": pattern, "confidence": 82,
                "signal": {"type": "LONG" if long else "SHORT", "strength": "STRONG", "pattern": pattern},
                "entry": {"price": price, "type": "market"}, "risk": {"stop": stop, "rr": 2.0},
                "components": {"trend": "aligned", "momentum": "confirming", "volume": "above_average"}}
    if shape == "trend_dots":  # Multi-Timeframe Trend Dots: a trend change across the dot rows
        word = "bullish" if long else "bearish"
        dot = "bull" if long else "bear"
        return {"event": "trend_change", "ticker": symbol, "bias": word, "price": price,
                "timeframes": {"1m": dot, "3m": dot, "5m": dot, "15m": dot, "1h": "neutral"},
                "trigger_timeframe": f"{interval}m,5m", "timestamp": int(moment.timestamp() * 1000)}
    if shape == "orb":  # opening-range breakout indicator: side, entry, stop
        return {"indicator": "ORB", "ticker": symbol, "interval": interval, "side": "buy" if long else "sell",
                "entry": price, "stop": stop, "price": price, "orb_high": round(price * 0.999, 2),
                "orb_low": round(price * 0.995, 2), "timestamp": _iso(moment)}
    if shape == "saty":  # Saty phase oscillator
        return {"meta": {"engine": "SATY_PO", "version": "1.3", "ticker": symbol}, "timeframe": interval,
                "regime_context": {"local_bias": "BULLISH" if long else "BEARISH", "htf_bias": "NEUTRAL"},
                "event": {"phase_name": "MARKUP" if long else "MARKDOWN", "oscillator": 61.8 if long else -61.8},
                "price": price, "timestamp": int(moment.timestamp() * 1000)}
    if shape == "strat":  # STRAT v6 journal
        return {"journal": {"engine": "STRAT_V6_FULL", "setup": "2-1-2"}, "symbol": symbol, "tf": interval,
                "signal": {"side": direction, "pattern": "2-1-2"}, "trend": "BULL" if long else "BEAR",
                "price": price, "timestamp": int(moment.timestamp())}
    if shape == "trend_start":
        return {"ticker": symbol, "timeframe": interval, "side": "LONG" if long else "SHORT",
                "trend": "BULL" if long else "BEAR", "entry": price, "stop": stop,
                "t1": round(price * (1.004 if long else 0.996), 2), "t2": round(price * (1.008 if long else 0.992), 2),
                "session": "ACTIVE", "price": price, "timestamp": _iso(moment)}
    raise ValueError(shape)


def _entry(moment: datetime, payload, note: str | None = None, **extra) -> dict:
    entry = {"at": moment.isoformat()}
    entry.update(extra)
    if payload is not None:
        entry["payload"] = payload
    if note:
        entry["note"] = note
    return entry


def build() -> dict:
    market = _Market()
    alerts: list[tuple[datetime, int, dict]] = []  # (moment, order, entry): stable sort

    def add(moment: datetime, entry: dict) -> None:
        alerts.append((moment, len(alerts), entry))

    # The V3 bias feed: one snapshot per symbol per 5-minute bar (a couple of seconds after the
    # close, staggered per symbol), BIAS_CHANGE when the consensus flips. AAPL's comes through
    # the bias-only endpoint.
    moment = _at(BIAS_FROM)
    previous: dict[str, str] = {}
    while moment <= _at(BIAS_UNTIL):
        for i, symbol in enumerate(BIAS_SYMBOLS):
            at = moment + timedelta(seconds=2 + i)
            bias = _bias_at(market, symbol, moment)
            event_type = "BIAS_CHANGE" if previous.get(symbol) not in (None, bias) else "BIAS_SNAPSHOT"
            previous[symbol] = bias
            extra = {"path": "/api/webhooks/mtf-bias"} if symbol == "AAPL" else {}
            note = f"{symbol} bias turns {bias}" if event_type == "BIAS_CHANGE" else None
            add(at, _entry(at, _bias_payload(market, symbol, moment, bias, event_type), note, **extra))
        moment += timedelta(minutes=5)

    for spec in TRADES:
        moment = _at(spec[0])
        add(moment, _entry(moment, _trade_payload(market, spec, moment)))
    for start, delay, spelling in DUPLICATES:
        spec = next(s for s in TRADES if s[0] == start)
        payload = _trade_payload(market, spec, _at(start))
        if spelling:
            payload["direction"] = spelling
        moment = _at(start) + timedelta(seconds=delay)
        add(moment, _entry(moment, payload, "TradingView resent the alert: duplicate within 60 s", expect="duplicate"))

    # Deliveries that must not trade: each ends in its 4xx and an audit row.
    bad = [
        ("10:00:30", {"raw": "SPY crossing 600.00"}, "alert message is not JSON (TradingView sends text/plain)"),
        ("10:33:03", {"payload": {"test": True, "type": "PING", "ticker": "SPY", "direction": "NEUTRAL"}},
         "Pine test-mode ping: no timeframe"),
        ("11:12:40", {"payload": {"interval": "5", "direction": "long", "price": "231.10"}},
         "template without {{ticker}}: missing symbol"),
        ("11:58:09", {"payload": {"ticker": "QQQ", "interval": "5", "direction": "flat", "price": "520"}},
         "strategy closing to flat: no direction"),
        ("12:57:33", {"payload": {"ticker": "SPY", "interval": "5", "direction": "short", "timestamp": "{{timenow}}"}},
         "placeholder never filled in: invalid timestamp"),
        ("14:15:51", {"payload": {"ticker": "AAPL", "interval": "5", "direction": "long", "price": "229.4"},
                      "secret": "an-old-secret"}, "alert still carries a rotated secret: 401"),
    ]
    for hhmm, fields, note in bad:
        moment = _at(hhmm)
        expect = "invalid_signature" if "secret" in fields else "invalid_payload"
        entry = {"at": moment.isoformat(), **fields, "expect": expect, "note": note}
        add(moment, entry)

    # The bias feed's own mishaps: a resent event (duplicate), a late one (out of order) and one
    # the producer got wrong (422).
    resent = next(e for m, _, e in alerts if e.get("payload", {}).get("event_id_raw", "").startswith("MTF_BIAS_ENGINE_V3|QQQ|5|")
                  and m >= _at("11:00"))
    moment = datetime.fromisoformat(resent["at"]) + timedelta(seconds=20)
    add(moment, _entry(moment, json.loads(json.dumps(resent["payload"])), "bias event resent: duplicate", expect="duplicate"))
    late_at = _at("12:20:04")
    late = _bias_payload(market, "SPY", _at("12:05"), "BULLISH", "BIAS_SNAPSHOT")
    late["event_id_raw"] += "|retry"
    add(late_at, _entry(late_at, late, "a delayed snapshot from 12:05: out of order", expect="out_of_order"))
    broken_at = _at("13:20:09")
    broken = _bias_payload(market, "NVDA", _at("13:20"), "BULLISH", "BIAS_SNAPSHOT")
    broken["event_id_raw"] += "|v2"
    broken["event_ts_ms"] += 9000
    del broken["session"]
    add(broken_at, _entry(broken_at, broken, "producer bug: no session field: 422", expect="invalid_payload"))

    alerts.sort(key=lambda item: (item[0], item[1]))
    return {
        "name": f"Demo trading day {DAY.isoformat()}",
        "description": (
            "One New York session on the simulated market: the MTF Bias V3 feed for SPY, QQQ, AAPL "
            "and NVDA (bias set at the open, changed during the day), trade alerts from several "
            "TradingView indicators and strategies, a few resent duplicates and a few bad deliveries."
        ),
        "market_seed": SEED,
        "default_expect": "accepted",
        "settings": {
            "AB_SPLIT_PERCENTAGE": 50, "APP_MODE": "PAPER", "ENABLE_ORCHESTRATOR": True,
            "REQUIRE_MTF_BIAS_FOR_ENTRY": True, "MARKET_CLOSED_BEHAVIOR": "queue", "EMERGENCY_RISK_OFF": False,
            "E2E_TEST_MODE": False,
        },
        "alerts": [entry for _, _, entry in alerts],
    }


def write(path: Path = SESSION_FILE) -> Path:
    session = build()
    lines = ",\n".join("    " + json.dumps(entry, separators=(",", ":")) for entry in session["alerts"])
    head = {k: v for k, v in session.items() if k != "alerts"}
    text = json.dumps(head, indent=2)[:-2] + ',\n  "alerts": [\n' + lines + "\n  ]\n}\n"
    path.write_text(text)
    return path


if __name__ == "__main__":
    print(f"wrote {write()}")
