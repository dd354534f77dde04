"""One signal's decision (SPEC §6), as a pure function of its frozen snapshot.

confluence → gates (once, SPEC order) → contract from the chain → Engine A and Engine B on the same
inputs → sizing (each multiplier once) → execution policy → outcome. Both engines are evaluated on
every signal that passes the gates; the experiment's variant is executed and the other is kept as
shadow, so A and B can be compared signal by signal. When the confluence check or a gate stops the
signal, both engines record HOLD with that reason: the trace then shows why neither traded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from signals_app.engines import reasons
from signals_app.engines.contract_selection import choose_contract
from signals_app.engines.engine_a import decide_engine_a
from signals_app.engines.engine_b import decide_engine_b
from signals_app.engines.gates import GateConfig, run_gates
from signals_app.engines.outcome import ENTER, HOLD, WAIT, EngineDecision, GateVerdict
from signals_app.engines.setup_type import strategy_type
from signals_app.engines.sizing import compute_quantity, gamma_sizing, risk_multiplier
from signals_app.engines.snapshot import DecisionInput

APPROVED = "approved"
REJECTED = "rejected"
WAITING = "wait"

ENGINE_A_PRIMARY = "ENGINE_A_PRIMARY"
ENGINE_B_PRIMARY = "ENGINE_B_PRIMARY"
SHADOW_ONLY = "SHADOW_ONLY"


@dataclass(frozen=True)
class DecideConfig:
    gates: GateConfig
    risk_config: Mapping  # bias_config["risk"] multipliers
    max_contracts: int  # MAX_CONTRACTS_PER_TRADE
    app_mode: str = "PAPER"  # PAPER | SHADOW


@dataclass(frozen=True)
class Policy:
    mode: str
    executed_engine: str | None
    shadow_engine: str | None
    reason: str


@dataclass(frozen=True)
class SignalDecision:
    policy: Policy
    engines: tuple[EngineDecision, ...]  # A then B
    outcome: str  # approved | rejected | wait
    reason: str | None
    detail: str
    gates: GateVerdict | None = None
    meta_gamma: Mapping = field(default_factory=dict)
    sizing: Mapping = field(default_factory=dict)

    def engine(self, name: str) -> EngineDecision:
        return next(d for d in self.engines if d.engine == name)

    @property
    def executed(self) -> EngineDecision | None:
        name = self.policy.executed_engine
        return self.engine(name) if name else None


def choose_policy(variant: str, app_mode: str, decision_only: bool) -> Policy:
    other = "B" if variant == "A" else "A"
    if decision_only:
        return Policy(SHADOW_ONLY, None, None, "market closed: engines run for the record, nothing executes")
    if app_mode == "SHADOW":
        return Policy(SHADOW_ONLY, None, None, "APP_MODE=SHADOW: every recommendation is shadow")
    mode = ENGINE_A_PRIMARY if variant == "A" else ENGINE_B_PRIMARY
    return Policy(mode, variant, other, f"paper mode, experiment variant {variant} executes")


def _hold_both(reason: str, why: Mapping) -> tuple[EngineDecision, ...]:
    return tuple(EngineDecision(engine=e, decision=HOLD, reason=reason, rationale=why) for e in ("A", "B"))


def _sized(inp: DecisionInput, gates: GateVerdict, config: DecideConfig) -> tuple[int, dict, Mapping]:
    direction = inp.signal.direction
    flow = inp.market.flow
    flow_bullish = None if flow is None or flow.net_premium == 0 else flow.net_premium > 0
    gamma_mult, meta_gamma = gamma_sizing(inp.market.gex, flow_bullish, direction)
    risk_mult, factors = risk_multiplier(
        inp.bias_state, direction, strategy_type(inp.bias_state), config.risk_config, gates.risk_multiplier
    )
    sizing = compute_quantity(
        inp.portfolio.limits.max_position_size, inp.confluence.multiplier, gamma_mult, risk_mult, config.max_contracts
    )
    detail = {
        "quantity": sizing.quantity, "steps": sizing.as_rationale(), "confluence_multiplier": str(inp.confluence.multiplier),
        "gamma_multiplier": str(gamma_mult), "risk_multiplier": str(risk_mult), "risk_factors": list(factors),
    }
    return sizing.quantity, detail, meta_gamma


def _engines(inp: DecisionInput, gates: GateVerdict, config: DecideConfig) -> tuple[tuple[EngineDecision, ...], dict, Mapping]:
    contract = choose_contract(inp.signal.direction, inp.market.price, inp.market.chain, inp.now)
    decisions = (decide_engine_a(inp, contract), decide_engine_b(inp, contract))
    quantity, sizing, meta_gamma = _sized(inp, gates, config)
    sized = tuple(dataclasses.replace(d, quantity=quantity) if d.decision == ENTER else d for d in decisions)
    return sized, sizing, meta_gamma


def _outcome(policy: Policy, executed: EngineDecision | None, decision_only: bool) -> tuple[str, str | None, str]:
    if decision_only:
        return REJECTED, reasons.MARKET_CLOSED, "market closed: decision recorded as shadow only"
    if policy.executed_engine is None:
        return REJECTED, reasons.SHADOW_MODE, policy.reason
    if executed is None:
        return REJECTED, reasons.NO_RECOMMENDATION, "the executed engine produced no recommendation"
    if executed.decision == ENTER:
        return APPROVED, None, f"engine {executed.engine} enters {executed.quantity} contract(s)"
    if executed.decision == WAIT:
        rules = ", ".join(executed.rationale.get("rules") or []) or executed.reason
        return WAITING, reasons.ENTRY_WAIT, f"engine {executed.engine} waits: {rules}"
    return REJECTED, executed.reason or reasons.NO_RECOMMENDATION, f"engine {executed.engine} holds: {executed.reason}"


def decide_signal(inp: DecisionInput, *, variant: str, decision_only: bool, config: DecideConfig) -> SignalDecision:
    policy = choose_policy(variant, config.app_mode, decision_only)
    confluence = inp.confluence
    gates: GateVerdict | None = None
    sizing: dict = {}
    meta_gamma: Mapping = {}
    if not confluence.passes or confluence.multiplier <= Decimal(0):
        engines = _hold_both(reasons.CONFLUENCE_BELOW_THRESHOLD, {"confluence": confluence.score, "tier": confluence.tier})
    else:
        gates = run_gates(inp, config.gates)
        if not gates.passed:
            engines = _hold_both(gates.reason, {"blocked_by_gate": gates.reason})
        else:
            engines, sizing, meta_gamma = _engines(inp, gates, config)
    executed = next((d for d in engines if d.engine == policy.executed_engine), None)
    outcome, reason, detail = _outcome(policy, executed, decision_only)
    return SignalDecision(
        policy=policy, engines=engines, outcome=outcome, reason=reason, detail=detail,
        gates=gates, meta_gamma=meta_gamma, sizing=sizing,
    )
