"""A complete, valid V3 payload for a chosen bias (pure): `manage.py seed_bias`, demos and tests use it
to create a bias state without a TradingView feed. Each preset is internally consistent and is
not suppressed in either direction by the default gating config.
"""

from __future__ import annotations

SEED_BIASES = ("BULLISH", "BEARISH", "NEUTRAL")

_PRESETS = {
    "BULLISH": {
        "score": 60, "confidence": 0.7, "macro": "MACRO_TREND_UP", "regime": "TREND", "chop": 30,
        "intent": "PULLBACK", "phase": "MID", "structure": "HH_HL", "momentum": "IMPULSE_UP", "vwap": "ABOVE",
        "orb": "BROKE_UP", "bar_type": "2_UP", "pattern": "2-1-2_UP", "triggered": True,
        "room": ("MEDIUM", "HIGH"), "invalidation": "M15_PIVOT_LOW", "hint": "PULLBACK",
    },
    "BEARISH": {
        "score": -60, "confidence": 0.7, "macro": "MACRO_TREND_DOWN", "regime": "TREND", "chop": 30,
        "intent": "PULLBACK", "phase": "MID", "structure": "LH_LL", "momentum": "IMPULSE_DOWN", "vwap": "BELOW",
        "orb": "BROKE_DOWN", "bar_type": "2_DOWN", "pattern": "2-1-2_DOWN", "triggered": True,
        "room": ("HIGH", "MEDIUM"), "invalidation": "M15_PIVOT_HIGH", "hint": "PULLBACK",
    },
    "NEUTRAL": {
        "score": 0, "confidence": 0.5, "macro": "MACRO_RANGE", "regime": "RANGE", "chop": 50,
        "intent": "NEUTRAL", "phase": "RANGE", "structure": "RANGE", "momentum": "DRIFT", "vwap": "CROSSING",
        "orb": "INSIDE", "bar_type": "1", "pattern": "NA", "triggered": False,
        "room": ("MEDIUM", "MEDIUM"), "invalidation": "NA", "hint": "MEAN_REVERT",
    },
}


def seed_payload(symbol: str, bias: str, *, event_ts_ms: int, session: str) -> dict:
    p = _PRESETS[bias]
    frame = {
        "bias": bias, "strength": abs(p["score"]) or 50, "structure": p["structure"], "momentum": p["momentum"],
        "volatility": "NORMAL",
    }
    return {
        "event_type": "BIAS_SNAPSHOT",
        "event_ts_ms": event_ts_ms,
        "event_id_raw": f"SEED|{symbol}|{event_ts_ms}|BIAS_SNAPSHOT",
        "symbol": symbol,
        "exchange": "",
        "session": session,
        "source": "MTF_BIAS_ENGINE_V3",
        "chart_tf": "5",
        # The seed has no prices: bar and EMA values are placeholders the state never carries.
        "bar": {"time_ms": event_ts_ms, "open": 0, "high": 0, "low": 0, "close": 0, "volume": 0},
        "mtf": {
            "timeframes": [
                {"tf": tf, **frame, "ema21": 0, "ema55": 0, "slope_ema55": 0, "atr": 0} for tf in ("5", "15", "60")
            ],
            "consensus": {
                "bias_consensus": bias, "bias_score": p["score"], "confidence_score": p["confidence"],
                "alignment_score": 75 if bias != "NEUTRAL" else 50, "conflict_score": 10 if bias != "NEUTRAL" else 40,
            },
            "regime": {"type": p["regime"], "chop_score": p["chop"], "atr_state_15m": "NORMAL"},
        },
        "macro": {
            "timeframes": [{"tf": "240", **frame}],
            "state": {
                "macro_class": p["macro"], "macro_confidence": 0.65 if bias != "NEUTRAL" else 0.5,
                "macro_support_1": None, "macro_resistance_1": None, "macro_measured_move_target": None,
            },
        },
        "levels": {
            "vwap": {"enabled": True, "value": None, "position": p["vwap"], "dist_atr": None},
            "orb": {"enabled": True, "window_min": 15, "high": None, "low": None, "mid": None, "state": p["orb"], "age_min": None},
        },
        "trigger": {"bar_type": p["bar_type"], "pattern": p["pattern"], "triggered": p["triggered"]},
        "liquidity": {"sweep_high": False, "sweep_low": False, "reclaim": False, "equal_high_cluster": False, "equal_low_cluster": False},
        "space": {"room_to_resistance": p["room"][0], "room_to_support": p["room"][1]},
        "intent": {"type": p["intent"], "confidence": 0.6, "regime_transition": False, "trend_phase": p["phase"]},
        "risk_context": {"invalidation": {"level": None, "method": p["invalidation"]}, "entry_mode_hint": p["hint"]},
    }
