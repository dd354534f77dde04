"""Engine B's meta decision: the agents' votes → approve or reject (reference orchestrator §5.10).

Pure. In order, the first failing step rejects: veto (any blocking agent) → quorum (at least three
directional votes) → at least one directional core agent → weighted sides (a tie rejects) → the
winning side must be the signal's direction → confidence ≥ dynamic threshold and consensus ≥ 20.

Fixes and decisions relative to the reference:
- The winning side must match the signal (bullish for long, bearish for short), else
  `meta_bias_opposes_signal` (§9.1 item 1: a confident bearish consensus approved a long).
  This runs before the threshold step: "the agents disagree with the trade" is the more useful
  reason than "they were not confident enough".
- Weights are the defaults overlaid with `weights`; unknown agents weigh 0.10. A weight of 0 takes
  an agent out of the weighing (the reference's per-type fallbacks replaced 0, so an agent could
  never be switched off). Quorum still counts it: quorum is about how many agents saw a direction.
- Confidence and consensus are rounded (half up) before they are compared, so a reason such as
  `confidence_59_below_threshold_60` shows exactly the numbers that were compared.
- The liquidity score (from the liquidity vote, when the chosen contract's quote was known) feeds
  the +5 low-liquidity adjustment the reference never had data for; directional exposure is
  still never supplied, so that adjustment does not exist here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from signals_app.engines.agents.common import round_half_up, signal_bias
from signals_app.engines.agents.regime import COMPRESSION, HIGH, LOW, TRANSITIONAL
from signals_app.engines.outcome import BEARISH, BULLISH, CORE, NEUTRAL, AgentVote
from signals_app.engines.reasons import META_BIAS_OPPOSES_SIGNAL, META_DECISION_REJECTED, with_details

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "context": 0.12,
    "technical": 0.18,
    "risk": 0.15,
    "regime_classifier": 0.12,
    "volatility": 0.10,
    "liquidity": 0.08,
    "mtf_trend": 0.07,
    "gamma_flow": 0.10,
    "orb_specialist": 0.10,
    "strat_specialist": 0.10,
    "ttm_specialist": 0.10,
}
UNKNOWN_AGENT_WEIGHT = 0.10
QUORUM = 3
MIN_CONSENSUS = 20
BASE_THRESHOLD = 50
MAX_THRESHOLD = 80
LOW_LIQUIDITY_SCORE = 40


@dataclass(frozen=True)
class MetaDecision:
    """The weighed verdict. Confidence, consensus and threshold are ints 0–100."""

    approved: bool
    final_bias: str  # bullish | bearish; neutral when rejected before the sides were weighed
    final_confidence: int  # weighted mean confidence of the winning side
    consensus: int  # (winner − loser) / (winner + loser) × 100
    threshold: int
    adjustments: Mapping[str, int]  # threshold points added, by source
    weights: Mapping[str, float]  # weight used for each directional agent
    contributing_agents: tuple[str, ...]  # the directional agents, in vote order
    reasons: tuple[str, ...]
    rejections: tuple[str, ...] = ()  # short codes of why it was not approved

    @property
    def reason(self) -> str | None:
        """The engine's reason code: None when approved."""
        if self.approved:
            return None
        if self.rejections == (META_BIAS_OPPOSES_SIGNAL,):
            return META_BIAS_OPPOSES_SIGNAL
        return with_details(META_DECISION_REJECTED, self.rejections)

    def as_metadata(self) -> dict:
        """JSON-ready fields for the `meta_decision` vote and the recommendation's rationale."""
        return {
            "approved": self.approved,
            "final_bias": self.final_bias,
            "final_confidence": self.final_confidence,
            "consensus": self.consensus,
            "threshold": self.threshold,
            "adjustments": dict(self.adjustments),
            "weights": dict(self.weights),
            "contributing_agents": list(self.contributing_agents),
            "reasons": list(self.reasons),
            "rejections": list(self.rejections),
        }


def dynamic_threshold(regime_context: Mapping | None, liquidity_score: int | None) -> tuple[int, dict[str, int]]:
    """50, raised when the market is harder to read; capped at 80. Returns (threshold, adjustments)."""
    context = regime_context or {}
    regime, volatility = context.get("regime"), context.get("volatility_state")
    adjustments = {}
    if volatility == HIGH:
        adjustments["high_volatility"] = 10
    if volatility == LOW and regime == COMPRESSION:
        adjustments["low_volatility_compression"] = 5
    if regime == TRANSITIONAL:
        adjustments["transitional_regime"] = 5
    if liquidity_score is not None and liquidity_score < LOW_LIQUIDITY_SCORE:
        adjustments["low_liquidity"] = 5
    return min(MAX_THRESHOLD, BASE_THRESHOLD + sum(adjustments.values())), adjustments


def agent_weight(name: str, weights: Mapping[str, float] | None) -> float:
    overrides = weights or {}
    if name in overrides:
        return float(overrides[name])
    return DEFAULT_WEIGHTS.get(name, UNKNOWN_AGENT_WEIGHT)


def decide_meta(
    votes: Sequence[AgentVote],
    direction: str,
    regime_context: Mapping | None,
    weights: Mapping[str, float] | None = None,
) -> MetaDecision:
    """Weigh `votes` for a `direction` ("long" | "short") signal; see the module docstring."""
    liquidity_score = next((v.metadata.get("score") for v in votes if v.agent_name == "liquidity"), None)
    threshold, adjustments = dynamic_threshold(regime_context, liquidity_score)
    adjusted = (f"threshold_adjusted_by_{'+'.join(adjustments)}",) if adjustments else ()

    def reject(*rejections: str, **weighed) -> MetaDecision:
        # Rejections before the sides were weighed carry no bias, confidence or weights.
        unweighed = {"final_bias": NEUTRAL, "final_confidence": 0, "consensus": 0}
        fields = {**unweighed, "weights": {}, "contributing_agents": (), **weighed}
        prefix = ("weighted_consensus",) if weighed else ()
        return MetaDecision(
            approved=False,
            threshold=threshold,
            adjustments=adjustments,
            reasons=prefix + rejections + adjusted,
            rejections=rejections,
            **fields,
        )

    blocked = [v.agent_name for v in votes if v.block]
    if blocked:
        return reject(*(f"{name}_blocked" for name in blocked))
    directional = [v for v in votes if v.bias in (BULLISH, BEARISH)]
    if len(directional) < QUORUM:
        return reject(f"quorum_not_met_need_{QUORUM}_got_{len(directional)}")
    if not any(v.agent_type == CORE for v in directional):
        return reject("no_core_agent_directional")

    used = {v.agent_name: agent_weight(v.agent_name, weights) for v in directional}
    support = {BULLISH: 0.0, BEARISH: 0.0}  # Σ weight × confidence per side
    weight = {BULLISH: 0.0, BEARISH: 0.0}
    for vote in directional:
        support[vote.bias] += used[vote.agent_name] * vote.confidence
        weight[vote.bias] += used[vote.agent_name]
    contributing = tuple(v.agent_name for v in directional)
    if math.isclose(support[BULLISH], support[BEARISH], abs_tol=1e-9):
        return reject("directional_tie", weights=used, contributing_agents=contributing)

    winner = BULLISH if support[BULLISH] > support[BEARISH] else BEARISH
    loser = BEARISH if winner == BULLISH else BULLISH
    confidence = round_half_up(support[winner] / weight[winner])
    consensus = round_half_up((support[winner] - support[loser]) / (support[winner] + support[loser]) * 100)
    weighed = {
        "final_bias": winner,
        "final_confidence": confidence,
        "consensus": consensus,
        "weights": used,
        "contributing_agents": contributing,
    }
    if winner != signal_bias(direction):
        return reject(META_BIAS_OPPOSES_SIGNAL, **weighed)
    failures = []
    if consensus < MIN_CONSENSUS:
        failures.append(f"weak_consensus_strength_{consensus}")
    if confidence < threshold:
        failures.append(f"confidence_{confidence}_below_threshold_{threshold}")
    if failures:
        return reject(*failures, **weighed)
    return MetaDecision(
        approved=True,
        threshold=threshold,
        adjustments=adjustments,
        reasons=("weighted_consensus", f"{winner}_{confidence}_meets_threshold_{threshold}") + adjusted,
        **weighed,
    )
