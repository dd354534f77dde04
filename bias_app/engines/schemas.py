"""The producer contracts: MTF Bias Engine V3 and legacy V1 payloads (reference ingestion-and-bias §5–§6).

"Nullable" fields must be present but may be null (the producer sends Pine's `na` as null);
`Opt` fields may be absent. Every enum and range is checked; unknown keys are dropped.
"""

from __future__ import annotations

from bias_app.engines.validation import Arr, Bool, Const, Enum, Num, Obj, Opt, Str

V3_SOURCE = "MTF_BIAS_ENGINE_V3"
V1_SOURCE = "MTF_BIAS_ENGINE_V1"

# Epoch milliseconds before 2001-09-09 are almost certainly seconds sent by mistake; accepting them
# would store a state that is instantly stale and could never be superseded in the right order.
MIN_EVENT_TS_MS = 1_000_000_000_000
EVENT_TS = Num(minimum=MIN_EVENT_TS_MS, integer=True, hint="must be epoch milliseconds (an integer >= 1000000000000)")
EVENT_ID_RAW = Str(max_length=512)

BIAS = ("BULLISH", "BEARISH", "NEUTRAL")
STRUCTURE = ("HH_HL", "LH_LL", "RANGE")
MOMENTUM = ("IMPULSE_UP", "IMPULSE_DOWN", "DRIFT")
VOLATILITY = ("EXPANDING", "CONTRACTING", "NORMAL")
MACRO_CLASSES = ("MACRO_BREAKDOWN_CONFIRMED", "MACRO_REVERSAL_RISK", "MACRO_TREND_UP", "MACRO_TREND_DOWN", "MACRO_RANGE")
INTENT_TYPES = ("REVERSAL", "FAKEOUT", "COMPRESSION", "BREAKOUT", "PULLBACK", "MEAN_REVERT", "NEUTRAL")
ROOM = ("HIGH", "MEDIUM", "LOW", "NA")

PERCENT = Num(minimum=0, maximum=100)
UNIT = Num(minimum=0, maximum=1)
NUM = Num()
NULL_NUM = Num(nullable=True)

BAR = Obj({"time_ms": NUM, "open": NUM, "high": NUM, "low": NUM, "close": NUM, "volume": NUM})

CONSENSUS_V3 = Obj({
    "bias_consensus": Enum(BIAS),
    "bias_score": Num(minimum=-100, maximum=100),
    "confidence_score": UNIT,
    "alignment_score": PERCENT,
    "conflict_score": PERCENT,
})

V3_TIMEFRAME = Obj({
    "tf": Str(), "bias": Enum(BIAS), "strength": PERCENT, "structure": Enum(STRUCTURE),
    "momentum": Enum(MOMENTUM), "volatility": Enum(VOLATILITY),
    "ema21": NUM, "ema55": NUM, "slope_ema55": NUM, "atr": NUM,
})

MACRO_TIMEFRAME = Obj({
    "tf": Str(), "bias": Enum(BIAS), "strength": PERCENT, "structure": Enum(STRUCTURE),
    "momentum": Enum(MOMENTUM), "volatility": Enum(VOLATILITY),
})

# Optional extension (docs/bias.md "Gamma"): a producer that knows the dealer-gamma context may send
# it; the service has no gamma table of its own. Field rules follow the original gamma stream.
GAMMA = Obj({
    "as_of_ts_ms": EVENT_TS,
    "gamma_environment": Enum(("POSITIVE", "NEGATIVE", "NEUTRAL")),
    "gamma_magnitude": Enum(("LOW", "MEDIUM", "HIGH")),
    "gamma_flip_level": NULL_NUM,
    "distance_to_flip": NULL_NUM,
    "call_wall": NULL_NUM,
    "put_wall": NULL_NUM,
    "vol_regime_bias": Enum(("EXPANSION_LIKELY", "COMPRESSION_LIKELY", "NEUTRAL")),
})

V3_SCHEMA = Obj({
    "event_type": Enum(("BIAS_SNAPSHOT", "BIAS_CHANGE", "ORB_UPDATE")),
    "event_ts_ms": EVENT_TS,
    "event_id_raw": EVENT_ID_RAW,
    "symbol": Str(),
    "exchange": Opt(Str(non_empty=False), ""),
    "session": Enum(("RTH", "ETH")),
    "source": Const(V3_SOURCE),
    "chart_tf": Str(),
    "bar": BAR,
    "mtf": Obj({
        "timeframes": Arr(V3_TIMEFRAME, min_items=1),
        "consensus": CONSENSUS_V3,
        "regime": Obj({
            "type": Enum(("TREND", "RANGE")),
            "chop_score": PERCENT,
            "adx_15m": Opt(NUM),
            "atr_state_15m": Opt(Enum(VOLATILITY)),
        }),
    }),
    "macro": Obj({
        "timeframes": Opt(Arr(MACRO_TIMEFRAME), []),
        "state": Obj({
            "macro_class": Enum(MACRO_CLASSES),
            "macro_confidence": UNIT,
            "macro_support_1": NULL_NUM,
            "macro_resistance_1": NULL_NUM,
            "macro_measured_move_target": NULL_NUM,
        }),
    }),
    "levels": Obj({
        "vwap": Obj({
            "enabled": Bool(), "value": NULL_NUM,
            "position": Enum(("ABOVE", "BELOW", "CROSSING", "NA")), "dist_atr": NULL_NUM,
        }),
        "orb": Obj({
            "enabled": Bool(), "window_min": NUM, "high": NULL_NUM, "low": NULL_NUM, "mid": NULL_NUM,
            "state": Enum(("BROKE_UP", "BROKE_DOWN", "INSIDE", "NA")), "age_min": NULL_NUM,
        }),
        "swings": Opt(Obj({
            key: Opt(NULL_NUM) for key in (
                "h1_last_pivot_high", "h1_last_pivot_low", "m15_last_pivot_high",
                "m15_last_pivot_low", "dist_to_res_atr", "dist_to_sup_atr",
            )
        })),
    }),
    "trigger": Obj({
        "bar_type": Enum(("1", "2_UP", "2_DOWN", "3", "NA")),
        "pattern": Enum(("2-1-2_UP", "2-1-2_DOWN", "3-2_REVERSAL_UP", "3-2_REVERSAL_DOWN", "NA")),
        "triggered": Bool(),
    }),
    "liquidity": Obj({key: Bool() for key in ("sweep_high", "sweep_low", "reclaim", "equal_high_cluster", "equal_low_cluster")}),
    "space": Obj({"room_to_resistance": Enum(ROOM), "room_to_support": Enum(ROOM)}),
    "intent": Obj({
        "type": Enum(INTENT_TYPES),
        "confidence": UNIT,
        "regime_transition": Bool(),
        "trend_phase": Enum(("EARLY", "MID", "LATE", "RANGE")),
    }),
    "risk_context": Obj({
        "invalidation": Obj({
            "level": NULL_NUM,
            "method": Enum(("M15_PIVOT_LOW", "M15_PIVOT_HIGH", "ORB_LOW", "ORB_HIGH", "NA")),
        }),
        "entry_mode_hint": Enum(("BREAKOUT", "PULLBACK", "MEAN_REVERT", "NO_TRADE")),
    }),
    "gamma": Opt(GAMMA),
})

V1_BIAS = (*BIAS, "HOLD")

V1_SCHEMA = Obj({
    "schema_version": Opt(Const("1")),
    "event_type": Str(max_length=50),
    "event_ts_ms": EVENT_TS,
    "event_id_raw": EVENT_ID_RAW,
    "symbol": Str(),
    "chart_tf": Str(),
    "exchange": Opt(Str(non_empty=False), ""),
    "session": Opt(Str(non_empty=False)),
    "source": Opt(Str(non_empty=False)),
    "bar": Opt(BAR),
    "mtf": Obj({
        "timeframes": Arr(Obj({"tf": Str(), "bias": Enum(V1_BIAS), "strength": PERCENT}), min_items=1),
        "consensus": Obj({
            "bias_consensus": Enum(V1_BIAS),
            "bias_score": Num(minimum=-100, maximum=100),
            "confidence_score": UNIT,
            "alignment_score": PERCENT,
            "conflict_score": PERCENT,
        }),
        "regime": Obj({"type": Enum(("TREND", "RANGE", "BREAKOUT", "BREAKDOWN")), "chop_score": PERCENT}),
    }),
    "levels": Obj({
        "vwap": Obj({"value": NUM, "position": Enum(("ABOVE", "BELOW", "AT"))}),
        "orb": Obj({"high": NUM, "low": NUM, "state": Enum(("INSIDE", "ABOVE", "BELOW", "BREAK_UP", "BREAK_DOWN"))}),
    }),
    "risk_context": Obj({
        "invalidation": Obj({"level": NUM}),
        "entry_mode_hint": Enum(("BREAKOUT", "PULLBACK", "MEAN_REVERT")),
    }),
})
