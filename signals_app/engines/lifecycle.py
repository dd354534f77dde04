"""The signal state machine of SPEC §6, as pure decisions about what happens next.

Every function returns a `Transition`: what the orchestrator writes to the claimed signal when it
cannot (or need not) run the engines. The service applies it with one lease-guarded update.

    pending ──claim──► (lease held)
        ├─ too old ─────────────────────────────► rejected  signal_stale
        ├─ market closed (queue) ───────────────► pending   queued_until = next open
        ├─ market closed (reject) ──────────────► rejected  market_closed
        ├─ position limits ─────────────────────► pending   next_retry_at += RISK_DEFER (until stale → rejected)
        ├─ daily loss cap ──────────────────────► rejected  daily_loss_cap_exceeded
        ├─ transient fault (attempt < max) ─────► pending   next_retry_at += retry delay
        ├─ transient fault (attempt = max) ─────► rejected  <fault>
        ├─ tier-2 WAIT (wait < max) ────────────► pending   next_retry_at += wait delay   (own counter)
        ├─ tier-2 WAIT (wait = max) ────────────► rejected  entry_wait_exhausted
        └─ decided ─────────────────────────────► approved / rejected <reason>
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from optionsengine.lib import market_calendar
from signals_app.engines import reasons
from signals_app.engines.snapshot import Portfolio

PENDING = "pending"
REJECTED = "rejected"

QUEUE = "queue"
REJECT = "reject"
DECISION_ONLY = "decision_only"


@dataclass(frozen=True)
class LifecycleConfig:
    max_age: timedelta = timedelta(minutes=30)  # SIGNAL_MAX_AGE_MINUTES
    market_closed_behavior: str = QUEUE  # queue | reject | decision_only
    risk_defer: timedelta = timedelta(seconds=60)  # RISK_DEFER_SECONDS
    retry_delay: timedelta = timedelta(seconds=60)  # ORCHESTRATOR_RETRY_DELAY_MS
    max_attempts: int = 3  # transient faults, counting the first try
    wait_delay: timedelta = timedelta(minutes=5)
    max_wait_attempts: int = 3


@dataclass(frozen=True)
class SignalClock:
    """The lifecycle fields of a claimed signal."""

    timestamp: datetime  # alert time
    queued_until: datetime | None  # release time of a market-closed queue
    is_test: bool
    processing_attempts: int  # transient faults so far
    wait_attempts: int  # tier-2 WAIT re-checks so far

    @property
    def age_reference(self) -> datetime:
        """A signal released from the market-closed queue is as old as its release, not its alert."""
        if self.queued_until is not None and self.queued_until > self.timestamp:
            return self.queued_until
        return self.timestamp


@dataclass(frozen=True)
class Transition:
    status: str  # pending | rejected
    reason: str | None
    detail: str
    next_retry_at: datetime | None = None
    queued_until: datetime | None = None
    queue_reason: str | None = None
    processing_attempts: int | None = None  # new value when it changes
    wait_attempts: int | None = None

    @property
    def final(self) -> bool:
        return self.status == REJECTED


def _reject(reason: str, detail: str) -> Transition:
    return Transition(REJECTED, reason, detail)


def is_stale(clock: SignalClock, now: datetime, config: LifecycleConfig) -> bool:
    return now - clock.age_reference > config.max_age


def before_decision(clock: SignalClock, now: datetime, config: LifecycleConfig) -> Transition | None:
    """Staleness, then market hours. None: go on (check `decision_only_now` for the closed case)."""
    if is_stale(clock, now, config):
        minutes = int((now - clock.age_reference).total_seconds() // 60)
        return _reject(reasons.SIGNAL_STALE, f"signal is {minutes} min old (limit {config.max_age})")
    if clock.is_test or market_calendar.is_regular_hours(now):
        return None
    if config.market_closed_behavior == QUEUE:
        release = market_calendar.next_open(now)
        return Transition(
            PENDING, None, f"market closed: queued until {release.isoformat()}",
            queued_until=release, queue_reason=reasons.MARKET_CLOSED,
        )
    if config.market_closed_behavior == REJECT:
        return _reject(reasons.MARKET_CLOSED, "market closed (MARKET_CLOSED_BEHAVIOR=reject)")
    return None


def decision_only_now(clock: SignalClock, now: datetime, config: LifecycleConfig) -> bool:
    """Market closed with `decision_only`: engines run, everything is shadow, signal rejected."""
    return (
        not clock.is_test
        and config.market_closed_behavior == DECISION_ONLY
        and not market_calendar.is_regular_hours(now)
    )


def risk_cap_violation(portfolio: Portfolio, symbol: str) -> tuple[str, str] | None:
    """Open-position, per-symbol and daily-loss caps (0 = no limit). Returns (reason, detail)."""
    limits = portfolio.limits
    open_count = portfolio.committed_count
    if limits.max_daily_loss > 0 and portfolio.daily_pnl <= -limits.max_daily_loss:
        return reasons.DAILY_LOSS_CAP_EXCEEDED, f"daily P&L {portfolio.daily_pnl} ≤ −{limits.max_daily_loss}"
    if limits.max_open_positions > 0 and open_count >= limits.max_open_positions:
        return reasons.MAX_OPEN_POSITIONS_EXCEEDED, f"{open_count} open or pending positions (limit {limits.max_open_positions})"
    symbol_count = portfolio.count_for(symbol)
    if limits.max_positions_per_symbol > 0 and symbol_count >= limits.max_positions_per_symbol:
        return (
            reasons.MAX_POSITIONS_PER_SYMBOL_EXCEEDED,
            f"{symbol_count} open or pending {symbol} positions (limit {limits.max_positions_per_symbol})",
        )
    return None


def after_risk_limit(clock: SignalClock, reason: str, detail: str, now: datetime, config: LifecycleConfig) -> Transition:
    """Position limits defer the signal while it is young enough to still trade; the loss cap rejects."""
    if reason not in reasons.DEFERRABLE:
        return _reject(reason, detail)
    retry_at = now + config.risk_defer
    if retry_at - clock.age_reference > config.max_age:
        return _reject(reason, f"{detail}; no slot freed before the signal went stale")
    return Transition(PENDING, reason, f"{detail}; deferred until {retry_at.isoformat()}", next_retry_at=retry_at)


def after_fault(clock: SignalClock, reason: str, detail: str, now: datetime, config: LifecycleConfig) -> Transition:
    """Transient faults retry after a delay, at most `max_attempts` tries in all; others reject."""
    if reason not in reasons.TRANSIENT:
        return _reject(reason, detail)
    attempts = clock.processing_attempts + 1
    if attempts >= config.max_attempts:
        return Transition(REJECTED, reason, f"{detail}; gave up after {attempts} attempts", processing_attempts=attempts)
    retry_at = now + config.retry_delay
    return Transition(
        PENDING, reason, f"{detail}; attempt {attempts} of {config.max_attempts}, retry at {retry_at.isoformat()}",
        next_retry_at=retry_at, processing_attempts=attempts,
    )


def after_wait(clock: SignalClock, detail: str, now: datetime, config: LifecycleConfig) -> Transition:
    """Tier-2 WAIT: look again later, on a counter of its own (faults do not use it up)."""
    waits = clock.wait_attempts + 1
    if waits > config.max_wait_attempts:
        return Transition(REJECTED, reasons.ENTRY_WAIT_EXHAUSTED, f"{detail}; still WAIT after {clock.wait_attempts} re-checks",
                          wait_attempts=clock.wait_attempts)
    retry_at = now + config.wait_delay
    return Transition(
        PENDING, reasons.ENTRY_WAIT, f"{detail}; re-check {waits} of {config.max_wait_attempts} at {retry_at.isoformat()}",
        next_retry_at=retry_at, wait_attempts=waits,
    )

