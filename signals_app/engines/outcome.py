"""What gates and engines return (pure, frozen). The service persists these as they are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ENTER = "enter"
HOLD = "hold"
WAIT = "wait"

BULLISH = "bullish"
BEARISH = "bearish"
NEUTRAL = "neutral"

CORE = "core"
SPECIALIST = "specialist"


@dataclass(frozen=True)
class GateCheck:
    """One gate's verdict; `reason` is a SPEC reason code when it blocks."""

    name: str  # e.g. "bias_missing", "portfolio_guard"
    passed: bool
    reason: str | None = None
    detail: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateVerdict:
    """All gates in SPEC order; stops at the first block. `risk_multiplier` is staleness only."""

    checks: tuple[GateCheck, ...]
    risk_multiplier: Decimal = Decimal(1)
    breaker_trip: Mapping | None = None  # {"freeze_until": datetime, "drawdown_pct": Decimal} to persist

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def reason(self) -> str | None:
        return next((c.reason for c in self.checks if not c.passed), None)


@dataclass(frozen=True)
class AgentVote:
    """One agent's output (`agent_decisions` row). Confidence is an int 0–100."""

    agent_name: str
    agent_type: str  # "core" | "specialist"
    bias: str  # bullish | bearish | neutral
    confidence: int
    reasons: tuple[str, ...] = ()
    block: bool = False
    metadata: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class ContractChoice:
    """The option an engine would buy: strike and expiration from the listed chain."""

    right: str  # "call" | "put"
    strike: Decimal
    expiration: date
    entry_price: Decimal  # option mid, USD per share
    dte: int
    rationale: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class EngineDecision:
    """One engine's verdict on one signal (`decision_recommendations` row + its votes)."""

    engine: str  # "A" | "B"
    decision: str  # enter | hold | wait
    reason: str | None  # SPEC reason code when not enter
    contract: ContractChoice | None = None
    quantity: int | None = None
    votes: tuple[AgentVote, ...] = ()
    rationale: Mapping = field(default_factory=dict)
