"""Engine B core agents: context, risk, technical, regime classifier, volatility, liquidity, MTF trend."""

from __future__ import annotations

from decimal import Decimal

import pytest

from optionsengine.marketdata.types import DealerPosition
from signals_app.engines.agents.core import context_agent, liquidity_agent, risk_agent
from signals_app.engines.agents.mtf import frame_trend, mtf_trend_agent
from signals_app.engines.agents.regime import classify, regime_classifier_agent, volatility_agent
from signals_app.engines.agents.technical import technical_agent
from signals_app.engines.outcome import BEARISH, BULLISH, NEUTRAL
from signals_app.engines.snapshot import MTF_TIMEFRAMES, SHORT, Indicators
from tests.signals_app.engines.agent_builders import (
    bars,
    contract_choice,
    decision_input,
    flat_then,
    gex,
    ny,
    ranging,
)

SATURDAY = ny(2026, 3, 14)

# --- context -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (SATURDAY, 10),
        (ny(2026, 3, 13, 9, 29), 10),  # pre-market
        (ny(2026, 3, 13, 16, 0), 10),  # the close itself is after hours
    ],
)
def test_context_outside_regular_hours_is_neutral_with_low_confidence(now, expected):
    vote = context_agent(decision_input(now=now))
    assert (vote.bias, vote.confidence, vote.reasons) == (NEUTRAL, expected, ("market_closed",))


@pytest.mark.parametrize(
    ("atr", "confidence"),
    [(None, 60), ("15.06", 30), ("15.00", 40), ("9.06", 40), ("9.00", 60)],  # price 600: 2.5 % = 15, 1.5 % = 9
)
def test_context_confidence_falls_as_atr_grows_relative_to_price(atr, confidence):
    indicators = Indicators(atr14=None if atr is None else float(atr))
    assert context_agent(decision_input(indicators=indicators)).confidence == confidence


@pytest.mark.parametrize(
    ("position", "ema8", "ema21", "bias"),
    [
        (DealerPosition.LONG_GAMMA, 599.0, 590.0, BEARISH),  # above EMA21: long gamma fades the rally
        (DealerPosition.LONG_GAMMA, 601.0, 610.0, BULLISH),
        (DealerPosition.SHORT_GAMMA, 599.0, 590.0, BULLISH),  # short gamma follows EMA8 over EMA21
        (DealerPosition.SHORT_GAMMA, 590.0, 599.0, BEARISH),
        (DealerPosition.SHORT_GAMMA, 595.0, 595.0, NEUTRAL),
        (DealerPosition.NEUTRAL, 599.0, 590.0, NEUTRAL),
    ],
)
def test_context_reads_dealer_gamma(position, ema8, ema21, bias):
    vote = context_agent(decision_input(gex=gex(position=position), indicators=Indicators(ema8=ema8, ema21=ema21)))
    assert vote.bias == bias


def test_context_without_gex_is_neutral_and_says_why():
    vote = context_agent(decision_input(indicators=Indicators(ema8=599.0, ema21=590.0)))
    assert vote.bias == NEUTRAL and "gex_unavailable" in vote.reasons


@pytest.mark.parametrize(
    ("zero_gamma", "reason"),
    [("597.01", "within_0_5pct_of_zero_gamma"), ("597", "within_1pct_of_zero_gamma"), ("594", None)],
)
def test_context_flags_price_near_the_zero_gamma_level(zero_gamma, reason):
    vote = context_agent(decision_input(gex=gex(zero_gamma=zero_gamma)))
    flagged = [r for r in vote.reasons if "zero_gamma" in r]
    assert flagged == ([reason] if reason else [])


@pytest.mark.parametrize(
    ("now", "capped"),
    [
        (ny(2026, 3, 13, 15, 45, 1), True),
        (ny(2026, 3, 13, 15, 45), False),  # exactly 15 minutes left
        (ny(2026, 11, 27, 12, 50), True),  # day after Thanksgiving closes at 13:00
    ],
)
def test_context_caps_confidence_in_the_last_15_minutes(now, capped):
    assert context_agent(decision_input(now=now)).confidence == (30 if capped else 60)


# --- risk --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "is_test", "block"),
    [
        (ny(2026, 3, 13, 10, 30), False, False),
        (ny(2026, 3, 13, 8, 0), False, True),  # pre-market is not the regular session
        (SATURDAY, False, True),
        (SATURDAY, True, False),  # test signals bypass market hours
    ],
)
def test_risk_blocks_only_a_closed_session_for_real_signals(now, is_test, block):
    vote = risk_agent(decision_input(now=now, is_test=is_test))
    assert (vote.block, vote.bias, vote.confidence) == (block, NEUTRAL, 0 if block else 50)


# --- technical ---------------------------------------------------------------------------------

BULLISH_INDICATORS = Indicators(
    ema8=598.0, ema13=596.0, ema21=594.0, ema48=590.0, rsi14=62.0, macd_hist=0.5, macd_hist_prev=0.3,
    vwap=595.0, volume_ratio=1.6, bb_upper=605.0, bb_lower=585.0, adx14=32.0, plus_di14=30.0, minus_di14=12.0,
)  # fmt: skip
BEARISH_INDICATORS = Indicators(
    ema8=602.0, ema13=604.0, ema21=606.0, ema48=610.0, rsi14=38.0, macd_hist=-0.5, macd_hist_prev=-0.3,
    vwap=605.0, volume_ratio=1.6, bb_upper=615.0, bb_lower=595.0, adx14=32.0, plus_di14=12.0, minus_di14=30.0,
)  # fmt: skip
RISING = bars((101, 99), (102, 100), (103, 101))
FALLING = bars((103, 101), (102, 100), (101, 99))


def test_technical_strong_bearish_setup_gets_the_same_high_confidence_as_its_bullish_mirror():
    bull = technical_agent(decision_input(indicators=BULLISH_INDICATORS, candles=RISING))
    bear = technical_agent(decision_input(indicators=BEARISH_INDICATORS, candles=FALLING))
    assert (bull.bias, bear.bias) == (BULLISH, BEARISH)
    assert bull.confidence == bear.confidence >= 65


def test_technical_without_any_indicator_is_omitted():
    assert technical_agent(decision_input(candles=RISING[:2])) is None


def test_technical_weak_net_lean_is_neutral():
    # RSI bullish 65 against MACD bearish 55, equal weights: net 0.05.
    indicators = Indicators(rsi14=60.0, macd_hist=-0.2, macd_hist_prev=-0.3)
    assert technical_agent(decision_input(indicators=indicators)).bias == NEUTRAL


# Four bullish readings (EMA stack 85, ADX 75, structure 70, Bollinger 60) and weak dissent.
LEANING_BULLISH = {"ema8": 598.0, "ema13": 596.0, "ema21": 594.0, "ema48": 590.0, "adx14": 40.0, "plus_di14": 40.0,
                   "minus_di14": 5.0, "bb_upper": 605.0, "bb_lower": 585.0}  # fmt: skip
DISSENT = {"rsi14": 75.0, "macd_hist": -0.2, "macd_hist_prev": -0.3, "vwap": 605.0}  # bearish 30, 55, 65


@pytest.mark.parametrize(
    ("dissent", "capped"),
    [({k: DISSENT[k] for k in ("rsi14", "macd_hist", "macd_hist_prev")}, False), (DISSENT, True)],
)
def test_technical_caps_confidence_when_three_readings_dissent(dissent, capped):
    vote = technical_agent(decision_input(indicators=Indicators(**LEANING_BULLISH, **dissent), candles=RISING))
    assert vote.bias == BULLISH
    assert (vote.confidence == 45) is capped and ("3_readings_against_bullish" in vote.reasons) is capped


@pytest.mark.parametrize(
    ("indicators", "name", "reading"),
    [
        (Indicators(rsi14=70.01), "rsi", (BEARISH, 30)),
        (Indicators(rsi14=70.0), "rsi", (BULLISH, 65)),
        (Indicators(rsi14=55.0), "rsi", (BULLISH, 65)),
        (Indicators(rsi14=54.9), "rsi", (NEUTRAL, 50)),
        (Indicators(rsi14=45.0), "rsi", (BEARISH, 65)),
        (Indicators(rsi14=30.0), "rsi", (BEARISH, 65)),
        (Indicators(rsi14=29.9), "rsi", (BULLISH, 30)),
        (Indicators(macd_hist=0.2, macd_hist_prev=0.3), "macd", (BULLISH, 55)),
        (Indicators(macd_hist=-0.4, macd_hist_prev=-0.3), "macd", (BEARISH, 75)),
        (Indicators(vwap=598.8), "vwap", (BULLISH, 65)),  # 600 is 0.2004 % above
        (Indicators(vwap=598.81), "vwap", (NEUTRAL, 50)),
        (Indicators(volume_ratio=1.51), "volume", (NEUTRAL, 75)),
        (Indicators(volume_ratio=1.0), "volume", (NEUTRAL, 60)),
        (Indicators(volume_ratio=0.99), "volume", (NEUTRAL, 30)),
        (Indicators(bb_upper=601.0, bb_lower=590.9), "bollinger", (BULLISH, 40)),  # position 0.901
        (Indicators(bb_upper=601.0, bb_lower=591.0), "bollinger", (BULLISH, 60)),  # exactly 0.9
        (Indicators(bb_upper=609.0, bb_lower=591.0), "bollinger", (BEARISH, 60)),  # exactly the middle
        (Indicators(bb_upper=609.0, bb_lower=599.5), "bollinger", (BEARISH, 40)),
        (Indicators(adx14=30.5, plus_di14=10.0, minus_di14=20.0), "adx", (BEARISH, 75)),
        (Indicators(adx14=25.0, plus_di14=25.0, minus_di14=14.0), "adx", (BULLISH, 60)),
        (Indicators(adx14=25.0, plus_di14=24.0, minus_di14=14.0), "adx", (NEUTRAL, 50)),  # gap exactly 10
        (Indicators(adx14=14.9), "adx", (NEUTRAL, 30)),
        (Indicators(ema8=599.0, ema21=598.0), "ema_stack", (BULLISH, 70)),
        (Indicators(ema8=590.0, ema13=592.0, ema21=594.0, ema48=596.0), "ema_stack", (BEARISH, 70)),
    ],
)
def test_technical_reading_tables(indicators, name, reading):
    vote = technical_agent(decision_input(indicators=indicators))
    found = vote.metadata["readings"][name]
    assert (found["bias"], found["strength"]) == reading


@pytest.mark.parametrize(
    ("candles", "reading"),
    [(RISING, (BULLISH, 70)), (FALLING, (BEARISH, 70)), (bars((102, 100), (103, 99), (101, 100)), (NEUTRAL, 50))],
)
def test_technical_reads_the_last_three_bars_structure(candles, reading):
    found = technical_agent(decision_input(candles=candles)).metadata["readings"]["structure"]
    assert (found["bias"], found["strength"]) == reading


# --- regime classifier and volatility ----------------------------------------------------------


@pytest.mark.parametrize(
    ("adx", "atr_pct", "bbw_pct", "volume_ratio", "expected"),
    [
        (40, 60, 50, None, ("trend", 75)),
        (30, 60, 50, None, ("transitional", 40)),  # ADX must exceed 30
        (60, 51, 50, None, ("trend", 90)),
        (10, 40, 10, None, ("compression", 80)),
        (10, 40, 10, 2.01, ("expansion", 60)),  # a volume surge breaks the compression
        (10, 40, 10, 2.0, ("compression", 80)),
        (25, 71, 90, None, ("expansion", 65)),
        (25, 70, 90, None, ("transitional", 40)),
        (19, 49, 50, None, ("range", 57)),
        (19, 50, 50, None, ("transitional", 40)),
    ],
)
def test_regime_classification_rules_and_boundaries(adx, atr_pct, bbw_pct, volume_ratio, expected):
    regime, confidence = classify(adx, atr_pct, bbw_pct, volume_ratio)
    assert (regime, round(confidence)) == expected


TREND_UP = Indicators(adx14=40.0, ema8=599.0, ema21=595.0)


@pytest.mark.parametrize(
    ("direction", "bias", "confidence", "reason"),
    [("long", BULLISH, 85, "trend_agrees_with_signal"), (SHORT, BULLISH, 65, "trend_opposes_signal")],
)
def test_regime_votes_the_trend_direction_not_the_signals(direction, bias, confidence, reason):
    vote = regime_classifier_agent(decision_input(direction=direction, indicators=TREND_UP, candles=ranging()))
    assert (vote.bias, vote.confidence) == (bias, confidence) and reason in vote.reasons
    assert vote.metadata["regime_context"] == {
        "regime": "trend", "volatility_state": "high", "trend_strength": 40.0, "confidence": confidence,
    }  # fmt: skip


def test_regime_agreement_never_lowers_a_very_strong_trend():
    indicators = Indicators(adx14=60.0, ema8=599.0, ema21=595.0)  # trend confidence 60 + 30 = 90
    assert regime_classifier_agent(decision_input(indicators=indicators, candles=ranging())).confidence == 90


@pytest.mark.parametrize(("hint", "confidence"), [(None, 75), ("BREAKOUT", 60), ("MEAN_REVERT", 80)])
def test_regime_range_confidence_depends_on_the_strategy(hint, confidence):
    bias_state = {"riskContext": {"entryModeHint": hint}} if hint else None
    # Ranges shrink (ATR percentile 0) while closes swing wider (band width not compressed).
    narrowing = ranging(first_half=2.0, last_half=0.6, swing=(0.1, 0.5))
    inp = decision_input(indicators=Indicators(adx14=10.0), candles=narrowing, bias_state=bias_state)
    vote = regime_classifier_agent(inp)
    assert (vote.metadata["regime_context"]["regime"], vote.bias, vote.confidence) == ("range", NEUTRAL, confidence)


@pytest.mark.parametrize(
    ("indicators", "candles"),
    [(Indicators(), ranging()), (TREND_UP, ranging(count=28))],  # no ADX / fewer than 10 band widths
)
def test_regime_is_omitted_without_real_statistics(indicators, candles):
    assert regime_classifier_agent(decision_input(indicators=indicators, candles=candles)) is None


@pytest.mark.parametrize(
    ("iv_rank", "atr", "confidence"),
    [
        (None, None, None),
        ("30", None, 65),
        ("30.01", None, 50),
        ("69.99", None, 50),
        ("70", None, 35),
        ("50", 18.01, 40),  # ATR above 3 % of the 600 price
        ("50", 18.0, 50),
    ],
)
def test_volatility_runs_only_with_iv_rank_and_scores_premium_cost(iv_rank, atr, confidence):
    inp = decision_input(iv_rank=None if iv_rank is None else Decimal(iv_rank), indicators=Indicators(atr14=atr))
    vote = volatility_agent(inp)
    assert (vote and vote.confidence) == confidence and (vote is None or vote.bias == NEUTRAL)


# --- liquidity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spread", "oi", "volume", "score", "block"),
    [
        ("2.00", 5000, 1200, 100, False),
        ("14.99", 5000, 1200, 64, False),
        ("15.00", 5000, 1200, 64, True),
        ("2.00", 10, 0, 51, False),
        ("2.00", 9, 0, 40, True),
        ("2.00", 5000, None, 100, False),  # unknown volume neither helps nor hurts
        (None, 150, None, 70, False),
        ("12", 20, 0, 15, True),  # every component weak: score under 20
    ],
)
def test_liquidity_scores_the_chosen_contracts_real_quote(spread, oi, volume, score, block):
    vote = liquidity_agent(contract_choice(spread, oi, volume))
    assert (vote.bias, vote.confidence, vote.metadata["score"], vote.block) == (NEUTRAL, score, score, block)


@pytest.mark.parametrize("contract", [None, contract_choice(None, None, 500)])
def test_liquidity_is_omitted_without_spread_or_open_interest(contract):
    assert liquidity_agent(contract) is None


# --- multi-timeframe trend ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candles", "trend"),
    [
        (flat_then(100.17), 1),
        (flat_then(100.16), 0),  # +0.145 % over the EMA: flat
        (flat_then(99.83), -1),
        (flat_then(99.84), 0),
        (flat_then(105, count=21), 1),
        (flat_then(105, count=20), None),
    ],
)
def test_frame_trend_uses_a_first_close_seeded_ema21_and_a_0_15pct_band(candles, trend):
    assert frame_trend(candles) == trend


UP, DOWN, FLAT = flat_then(101), flat_then(99), flat_then(100)


@pytest.mark.parametrize(
    ("frames", "direction", "bias", "confidence"),
    [
        (dict.fromkeys(MTF_TIMEFRAMES, UP), "long", BULLISH, 80),
        (dict.fromkeys(MTF_TIMEFRAMES, DOWN), "long", BEARISH, 65),  # opposes the signal: −15
        (dict.fromkeys(MTF_TIMEFRAMES, DOWN), SHORT, BEARISH, 80),
        ({"5m": DOWN, "15m": UP, "1h": UP, "4h": UP, "1d": UP}, "long", BULLISH, 55),  # mixed: capped
        ({"5m": FLAT, "15m": FLAT, "1h": UP, "4h": UP, "1d": FLAT}, "long", BULLISH, 68),  # 55 + 25·0.5
        ({"5m": FLAT, "15m": FLAT, "1h": UP, "4h": FLAT, "1d": FLAT}, "long", NEUTRAL, 50),  # 0.25 ≤ 0.3
        ({"1h": UP, "1d": UP}, "long", BULLISH, 80),
    ],
)
def test_mtf_trend_weighs_the_frames(frames, direction, bias, confidence):
    vote = mtf_trend_agent(decision_input(direction=direction, mtf_candles=frames))
    assert (vote.bias, vote.confidence) == (bias, confidence)


def test_mtf_alignment_score_adds_a_rounded_share_per_frame():
    vote = mtf_trend_agent(decision_input(mtf_candles={"5m": UP, "1h": UP, "1d": DOWN}))
    assert vote.metadata["alignment_score"] == 33


def test_mtf_trend_is_omitted_without_a_frame_of_21_candles():
    assert mtf_trend_agent(decision_input(mtf_candles={"1h": flat_then(101, count=20)})) is None
