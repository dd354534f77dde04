"""Engine B: the agents vote, the meta decision weighs them (reference orchestrator §5.8–§5.11).

Pure: the orchestrator has already run the shared gates, fetched the market snapshot and chosen
the contract (or a reason why none could be chosen); this module only decides. Quantity is the
orchestrator's sizing step, not set here.

Decisions:
- The agents and the meta decision run even when no contract could be chosen, so the stored votes
  let Engine B be compared with Engine A on every signal. A meta rejection is reported before a
  missing contract, following the reference's order (meta decision, then strike selection).
- The recommendation's direction is always the signal's: the meta decision rejects a consensus
  that opposes it (`meta_bias_opposes_signal`) instead of trading the other way.
"""

from __future__ import annotations

from collections.abc import Callable

from signals_app.engines.agents.core import context_agent, liquidity_agent, risk_agent
from signals_app.engines.agents.mtf import mtf_trend_agent
from signals_app.engines.agents.regime import regime_classifier_agent, volatility_agent
from signals_app.engines.agents.specialists import gamma_flow_agent, orb_specialist, strat_specialist, ttm_specialist
from signals_app.engines.agents.technical import technical_agent
from signals_app.engines.meta import MetaDecision, decide_meta
from signals_app.engines.outcome import CORE, ENTER, HOLD, AgentVote, ContractChoice, EngineDecision
from signals_app.engines.snapshot import DecisionInput

ENGINE = "B"
META_AGENT = "meta_decision"

# Correlation risk and satyland are not run: the pipeline has no data for them (SPEC §6).
AGENTS: tuple[Callable[[DecisionInput], AgentVote | None], ...] = (
    context_agent,
    technical_agent,
    risk_agent,
    regime_classifier_agent,
    volatility_agent,
    mtf_trend_agent,
    gamma_flow_agent,
    orb_specialist,
    strat_specialist,
    ttm_specialist,
)


def run_agents(inp: DecisionInput, contract: ContractChoice | None) -> tuple[AgentVote, ...]:
    """Every activated agent's vote, in a fixed order (liquidity reads the chosen contract)."""
    votes = [agent(inp) for agent in AGENTS]
    votes.append(liquidity_agent(contract))
    return tuple(v for v in votes if v is not None)


def meta_vote(meta: MetaDecision) -> AgentVote:
    """The meta decision stored alongside the agents; `block` marks a rejection."""
    return AgentVote(
        META_AGENT,
        CORE,
        meta.final_bias,
        meta.final_confidence,
        meta.reasons,
        block=not meta.approved,
        metadata=meta.as_metadata(),
    )


def decide_engine_b(inp: DecisionInput, contract: ContractChoice | str) -> EngineDecision:
    """ENTER with `contract` when the meta decision approves; otherwise HOLD with a reason code.

    `contract` is the chosen option or the reason code strike selection returned instead.
    """
    choice = contract if isinstance(contract, ContractChoice) else None
    votes = run_agents(inp, choice)
    regime = next((v.metadata.get("regime_context") for v in votes if v.agent_name == "regime_classifier"), None)
    meta = decide_meta(votes, inp.signal.direction, regime)
    all_votes = (*votes, meta_vote(meta))
    rationale = {"meta": meta.as_metadata()}
    if not meta.approved:
        return EngineDecision(ENGINE, HOLD, meta.reason, votes=all_votes, rationale=rationale)
    if choice is None:
        return EngineDecision(ENGINE, HOLD, str(contract), votes=all_votes, rationale=rationale)
    return EngineDecision(ENGINE, ENTER, None, contract=choice, votes=all_votes, rationale=rationale)
