"""Engine B end to end on built DecisionInputs: agents → meta decision → ENTER or HOLD."""

from __future__ import annotations

from decimal import Decimal

import pytest

from optionsengine.marketdata.types import DealerPosition
from signals_app.engines.engine_b import decide_engine_b
from signals_app.engines.outcome import BULLISH, CORE, ENTER, HOLD, NEUTRAL
from signals_app.engines.reasons import NO_STRIKE_NEAR_MONEY
from signals_app.engines.snapshot import MTF_TIMEFRAMES, SHORT, Indicators
from tests.signals_app.engines.agent_builders import (
    contract_choice,
    decision_input,
    flat_then,
    flow,
    gex,
    ny,
    ranging,
)

# A clean uptrend: stacked EMAs, positive and rising MACD, strong ADX, rising highs and lows with
# widening ranges (high volatility), short-gamma dealers, call-heavy flow, every timeframe up.
UPTREND = Indicators(
    ema8=598.0, ema13=596.0, ema21=594.0, ema48=590.0, atr14=2.0, rsi14=62.0, macd_hist=0.5,
    macd_hist_prev=0.3, vwap=596.0, volume_ratio=1.2, bb_upper=604.0, bb_lower=588.0, adx14=40.0,
    plus_di14=32.0, minus_di14=12.0,
)  # fmt: skip


def bullish_input(**overrides):
    market = {
        "indicators": UPTREND,
        "candles": ranging(price=590.0, drift=0.15),
        "mtf_candles": dict.fromkeys(MTF_TIMEFRAMES, flat_then(601, level=600)),
        "gex": gex(position=DealerPosition.SHORT_GAMMA),
        "flow": flow(calls=400, puts=100),
    }
    return decision_input(**{**market, **overrides})


def names(decision) -> list[str]:
    return [v.agent_name for v in decision.votes]


def test_agreeing_agents_enter_with_the_chosen_contract():
    contract = contract_choice()
    decision = decide_engine_b(bullish_input(), contract)
    assert (decision.engine, decision.decision, decision.reason) == ("B", ENTER, None)
    assert decision.contract is contract and decision.quantity is None
    assert names(decision) == [
        "context", "technical", "risk", "regime_classifier", "mtf_trend", "gamma_flow", "strat_specialist",
        "liquidity", "meta_decision",
    ]  # fmt: skip
    meta = decision.votes[-1]
    assert (meta.agent_type, meta.bias, meta.block) == (CORE, BULLISH, False)
    assert meta.metadata["threshold"] == 60  # high volatility: +10
    assert meta.metadata["final_confidence"] >= 60 and decision.rationale["meta"] == meta.metadata


def test_no_contract_holds_with_the_strike_reason_and_still_records_the_votes():
    decision = decide_engine_b(bullish_input(), NO_STRIKE_NEAR_MONEY)
    assert (decision.decision, decision.reason, decision.contract) == (HOLD, NO_STRIKE_NEAR_MONEY, None)
    assert "liquidity" not in names(decision) and decision.votes[-1].metadata["approved"] is True


def test_closed_market_is_vetoed_by_the_risk_agent():
    decision = decide_engine_b(bullish_input(now=ny(2026, 3, 14)), contract_choice())
    assert (decision.decision, decision.reason) == (HOLD, "meta_decision_rejected:risk_blocked")
    assert decision.votes[-1].block is True


def test_test_signal_bypasses_market_hours():
    decision = decide_engine_b(bullish_input(now=ny(2026, 3, 14), is_test=True), contract_choice())
    assert decision.decision == ENTER


def test_bullish_agents_do_not_approve_a_short_signal():
    decision = decide_engine_b(bullish_input(direction=SHORT), contract_choice())
    assert (decision.decision, decision.reason) == (HOLD, "meta_bias_opposes_signal")


def test_illiquid_contract_is_vetoed():
    decision = decide_engine_b(bullish_input(), contract_choice(spread_pct="18.5", open_interest=3))
    assert decision.reason == "meta_decision_rejected:liquidity_blocked"


@pytest.mark.parametrize(
    ("overrides", "absent"),
    [
        ({"gex": None, "flow": None}, "gamma_flow"),
        ({"mtf_candles": {}}, "mtf_trend"),
        ({"candles": ranging(count=20)}, "regime_classifier"),
    ],
)
def test_agents_without_data_are_omitted_not_faked(overrides, absent):
    assert absent not in names(decide_engine_b(bullish_input(**overrides), contract_choice()))


def test_bare_snapshot_misses_the_quorum():
    decision = decide_engine_b(decision_input(), contract_choice())
    assert names(decision) == ["context", "risk", "liquidity", "meta_decision"]
    assert decision.reason == "meta_decision_rejected:quorum_not_met_need_3_got_0"


def test_iv_rank_adds_a_neutral_volatility_vote():
    decision = decide_engine_b(bullish_input(iv_rank=Decimal("20")), contract_choice())
    volatility = next(v for v in decision.votes if v.agent_name == "volatility")
    # Cheap premium +15, bands at their widest −10.
    assert (volatility.bias, volatility.confidence, decision.decision) == (NEUTRAL, 55, ENTER)
