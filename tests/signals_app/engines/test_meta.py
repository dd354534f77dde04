"""Engine B meta decision: veto, quorum, core agent, tie, threshold, consensus, direction."""

from __future__ import annotations

import pytest

from signals_app.engines.meta import decide_meta, dynamic_threshold
from signals_app.engines.outcome import BEARISH, BULLISH, CORE, NEUTRAL, SPECIALIST, AgentVote
from signals_app.engines.snapshot import LONG, SHORT

# Equal weights make the arithmetic in these tests readable.
EQUAL = {"context": 1.0, "technical": 1.0, "mtf_trend": 1.0, "gamma_flow": 1.0, "strat_specialist": 1.0}


def vote(name: str, bias: str, confidence: int, *, agent_type=CORE, block=False, **metadata) -> AgentVote:
    return AgentVote(name, agent_type, bias, confidence, block=block, metadata=metadata)


def three_bullish(confidence: int = 70) -> list[AgentVote]:
    return [vote(name, BULLISH, confidence) for name in ("context", "technical", "mtf_trend")]


def test_unanimous_confident_votes_approve_a_long():
    meta = decide_meta(three_bullish(), LONG, None)
    assert (meta.approved, meta.final_bias, meta.final_confidence) == (True, BULLISH, 70)
    assert (meta.consensus, meta.threshold) == (100, 50)
    assert meta.reason is None and meta.reasons[0] == "weighted_consensus"
    assert meta.contributing_agents == ("context", "technical", "mtf_trend")
    assert meta.weights == {"context": 0.12, "technical": 0.18, "mtf_trend": 0.07}


def test_any_block_vetoes_and_names_every_blocking_agent():
    blocks = [vote("risk", NEUTRAL, 0, block=True), vote("liquidity", NEUTRAL, 10, block=True, score=10)]
    votes = [*three_bullish(), *blocks]
    meta = decide_meta(votes, LONG, None)
    assert (meta.approved, meta.final_confidence, meta.rejections) == (False, 0, ("risk_blocked", "liquidity_blocked"))
    assert meta.reason == "meta_decision_rejected:risk_blocked,liquidity_blocked"


@pytest.mark.parametrize(("directional", "approved"), [(2, False), (3, True)])
def test_quorum_needs_three_directional_votes(directional, approved):
    votes = three_bullish()[:directional] + [vote("risk", NEUTRAL, 50), vote("regime_classifier", NEUTRAL, 60)]
    meta = decide_meta(votes, LONG, None)
    assert meta.approved is approved
    if not approved:
        assert meta.reason == "meta_decision_rejected:quorum_not_met_need_3_got_2"


def test_specialists_alone_cannot_carry_a_decision():
    votes = [vote(n, BULLISH, 80, agent_type=SPECIALIST) for n in ("gamma_flow", "orb_specialist", "strat_specialist")]
    assert decide_meta(votes, LONG, None).rejections == ("no_core_agent_directional",)


def test_equal_weighted_sides_are_a_tie():
    # technical 0.18 × 60 = 10.8 bullish against context 0.12 × 90 = 10.8 bearish.
    votes = [vote("technical", BULLISH, 60), vote("context", BEARISH, 90), vote("gamma_flow", BULLISH, 50),
             vote("strat_specialist", BEARISH, 50, agent_type=SPECIALIST)]  # fmt: skip
    meta = decide_meta(votes, LONG, None)
    assert (meta.approved, meta.rejections, meta.final_bias) == (False, ("directional_tie",), NEUTRAL)


@pytest.mark.parametrize(("direction", "approved"), [(LONG, False), (SHORT, True)])
def test_final_bias_must_match_the_signal_direction(direction, approved):
    votes = [vote(n, BEARISH, 80) for n in ("context", "technical", "mtf_trend")]
    meta = decide_meta(votes, direction, None)
    assert (meta.approved, meta.final_bias) == (approved, BEARISH)
    assert meta.reason == (None if approved else "meta_bias_opposes_signal")


def test_a_short_needs_a_bearish_consensus():
    assert decide_meta(three_bullish(), SHORT, None).reason == "meta_bias_opposes_signal"


@pytest.mark.parametrize(
    ("regime_context", "liquidity_score", "threshold", "adjustments"),
    [
        (None, None, 50, {}),
        ({"regime": "trend", "volatility_state": "normal"}, None, 50, {}),
        ({"regime": "trend", "volatility_state": "high"}, None, 60, {"high_volatility": 10}),
        ({"regime": "compression", "volatility_state": "low"}, None, 55, {"low_volatility_compression": 5}),
        ({"regime": "range", "volatility_state": "low"}, None, 50, {}),
        ({"regime": "transitional", "volatility_state": "normal"}, None, 55, {"transitional_regime": 5}),
        ({"regime": "transitional", "volatility_state": "high"}, 39, 70,
         {"high_volatility": 10, "transitional_regime": 5, "low_liquidity": 5}),
        (None, 40, 50, {}),
    ],
)  # fmt: skip
def test_dynamic_threshold_adjustments(regime_context, liquidity_score, threshold, adjustments):
    assert dynamic_threshold(regime_context, liquidity_score) == (threshold, adjustments)


@pytest.mark.parametrize(("confidence", "approved"), [(60, True), (59, False)])
def test_confidence_must_reach_the_adjusted_threshold(confidence, approved):
    regime = {"regime": "trend", "volatility_state": "high"}
    meta = decide_meta(three_bullish(confidence), LONG, regime)
    assert (meta.approved, meta.threshold, meta.adjustments) == (approved, 60, {"high_volatility": 10})
    assert "threshold_adjusted_by_high_volatility" in meta.reasons
    if not approved:
        assert meta.reason == "meta_decision_rejected:confidence_59_below_threshold_60"


def test_low_liquidity_vote_raises_the_threshold():
    votes = [*three_bullish(52), vote("liquidity", NEUTRAL, 35, score=35)]
    meta = decide_meta(votes, LONG, None)
    assert (meta.threshold, meta.approved) == (55, False)


@pytest.mark.parametrize(("losing", "consensus", "approved"), [(80, 20, True), (81, 19, False)])
def test_consensus_must_be_at_least_20(losing, consensus, approved):
    # Bullish 60 + 60 against bearish `losing`, equal weights: (120 − losing) / (120 + losing).
    votes = [vote("context", BULLISH, 60), vote("technical", BULLISH, 60), vote("mtf_trend", BEARISH, losing)]
    meta = decide_meta(votes, LONG, None, weights=EQUAL)
    assert (meta.consensus, meta.final_confidence, meta.approved) == (consensus, 60, approved)
    if not approved:
        assert meta.reason == "meta_decision_rejected:weak_consensus_strength_19"


def test_every_failed_condition_is_reported():
    votes = [vote("context", BULLISH, 45), vote("technical", BULLISH, 45), vote("mtf_trend", BEARISH, 70)]
    meta = decide_meta(votes, LONG, None, weights=EQUAL)
    assert meta.rejections == ("weak_consensus_strength_13", "confidence_45_below_threshold_50")


def test_confidence_rounds_half_up_before_the_comparison():
    # (49 + 50) / 2 = 49.5 → 50 meets the default threshold.
    votes = [vote("context", BULLISH, 49), vote("technical", BULLISH, 50), vote("mtf_trend", BULLISH, 50)]
    meta = decide_meta(votes, LONG, None, weights={"context": 1.0, "technical": 1.0, "mtf_trend": 0.0})
    assert (meta.final_confidence, meta.approved) == (50, True)


def test_weights_override_defaults_and_unknown_agents_weigh_0_10():
    votes = [*three_bullish(), vote("newcomer", BULLISH, 70)]
    meta = decide_meta(votes, LONG, None, weights={"technical": 0.5})
    assert meta.weights == {"context": 0.12, "technical": 0.5, "mtf_trend": 0.07, "newcomer": 0.10}


def test_a_zero_weight_takes_an_agent_out_of_the_weighing_but_not_the_quorum():
    votes = [*three_bullish(), vote("gamma_flow", BEARISH, 90, agent_type=SPECIALIST)]
    meta = decide_meta(votes, LONG, None, weights={"gamma_flow": 0.0})
    assert (meta.approved, meta.consensus) == (True, 100)


def test_metadata_carries_every_field_for_storage():
    metadata = decide_meta(three_bullish(), LONG, {"regime": "transitional"}).as_metadata()
    assert set(metadata) == {
        "approved", "final_bias", "final_confidence", "consensus", "threshold", "adjustments",
        "weights", "contributing_agents", "reasons", "rejections",
    }  # fmt: skip
    assert metadata["adjustments"] == {"transitional_regime": 5}
