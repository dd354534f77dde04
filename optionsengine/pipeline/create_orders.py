"""Stage 4 — order creator (SPEC §7): approved signals become pending paper entry orders.

Per sweep (a batch, oldest first; a fixed number of queries per signal):
1. Read approved signals with no entry order that are due (`next_retry_at` unset or past), their
   executed recommendations (`decision_recommendations`, `is_shadow = false`, `enter`) and, for the
   cooldown, the live entry orders on the same contracts — one query each for the whole batch.
2. Outside any transaction: the underlying price through the provider chain and, for a signal
   without a recommendation (legacy mode), the option chain to pick strike and expiration.
3. One durable transaction per signal: re-check the signal is still approved (row lock), insert
   the order, enqueue the paper executor on commit. The unique constraint "one entry order per
   signal" is the guarantee; a losing concurrent insert is caught here as "already done".

Contract: strike, expiration and quantity from the executed recommendation. Without one (legacy,
`ENABLE_ORCHESTRATOR=false`): setup type from the signal's timeframe (SWING when it cannot be
read), expiration = first listed expiry on or after today (New York) + the setup's target DTE
(SWING 21), strike = nearest listed strike at/above spot for calls, at/below for puts (from the
chain; by the symbol's increment when no chain answers), quantity = newest enabled
`risk_limits.max_position_size` clamped to [1, MAX_CONTRACTS_PER_TRADE] (1 without a row).
Engine: the recommendation's; null in legacy mode (no engine decided).

Failures → `signals.rejection_reason = order_creation_failed:<why>`, status `rejected`:
- at once: `signal_stale` (older than SIGNAL_MAX_AGE_MINUTES, counted from its release from the
  market-closed queue when it was queued), `same_strike_cooldown` (reference §1.10; executing it
  after the cooldown lapses would be a late entry), `contract_expired`;
- after ORDER_CREATE_MAX_ATTEMPTS: `market_data_unavailable`, `no_strike_near_money`,
  `option_quote_unavailable`. Between attempts the signal waits `next_retry_at` (30 s, 60 s, …).
  Attempt count: once a signal is approved the orchestrator is done with its
  `processing_attempts`, so the order creator reuses that column; `queue_reason =
  order_creation_retry` marks that the count is the order creator's (the first failure restarts it
  at 1). Both are left as they are when the order is finally created (history for the trace).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Exists, OuterRef, Q

from optionsengine import marketdata
from optionsengine.lib import market_calendar
from optionsengine.lib.option_contracts import OptionRight, choose_strike, expiry_moment, occ_symbol, option_symbol
from optionsengine.lib.transactions import entry_point_transaction, require_transaction
from optionsengine.marketdata import MarketDataUnavailable
from optionsengine.pipeline.decision_inputs import is_test, signal_clock
from optionsengine.pipeline.followups import after_commit
from optionsengine.pipeline.stage import StageResult
from orders_app.engines.cooldown import RecentEntry, blocking_entry, webhook_source
from orders_app.models import Order
from orders_app.selectors import get_active_risk_limit
from signals_app.engines import reasons
from signals_app.engines.contract_selection import choose_contract, target_expiration
from signals_app.engines.setup_type import setup_type_of
from signals_app.models import DecisionRecommendation, Signal

logger = logging.getLogger(__name__)

STAGE = "order_creator"
BATCH_SIZE = 100
# Approved signals are scanned this far back (indexed by status, created_at). It covers a signal
# queued over a long holiday weekend; the creator runs every 30 s, so nothing older is waiting.
LOOKBACK = timedelta(days=10)
RETRY_BASE_SECONDS = 30
RETRY_MARKER = "order_creation_retry"
FAILED = "order_creation_failed"
DEFAULT_SETUP = "SWING"

SIGNAL_STALE = reasons.SIGNAL_STALE
SAME_STRIKE_COOLDOWN = "same_strike_cooldown"
CONTRACT_EXPIRED = "contract_expired"
FINAL_REASONS = frozenset({SIGNAL_STALE, SAME_STRIKE_COOLDOWN, CONTRACT_EXPIRED})

_SIGNAL_FIELDS = (
    "signal_id", "symbol", "direction", "timeframe", "is_test", "experiment_id", "raw_payload",
    "timestamp", "created_at", "queued_until", "processing_attempts", "wait_attempts", "queue_reason",
)


@dataclass(frozen=True)
class OrderPlan:
    signal_id: uuid.UUID
    symbol: str
    right: OptionRight
    strike: Decimal
    expiration: object  # date
    quantity: int
    engine: str | None
    experiment_id: uuid.UUID | None
    is_test: bool
    source: str

    @property
    def option_symbol(self) -> str:
        return option_symbol(self.symbol, self.expiration, self.right, self.strike)


class _Failure(Exception):
    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


# --- entry points ----------------------------------------------------------------------------------


def sweep(*, now: datetime) -> StageResult:
    """Create entry orders for every due approved signal without one (up to BATCH_SIZE)."""
    result = StageResult(STAGE)
    signals = list(_due_signals(now)[:BATCH_SIZE])
    if signals:
        _process(signals, now, result)
    return result


def create_order_for_signal(signal_id: uuid.UUID | str, now: datetime) -> str:
    """The fast path for one signal (enqueued by the orchestrator on approval). Returns the outcome
    (`created`, `already_done`, `retry:<why>`, `rejected:<why>`, or `not_due`)."""
    result = StageResult(STAGE)
    signals = list(_due_signals(now).filter(pk=signal_id))
    if not signals:
        return "not_due"
    _process(signals, now, result)
    if result.errors:
        return f"error:{result.errors[0]}"
    return next(iter(result.counts))


# --- the batch ---------------------------------------------------------------------------------


def _due_signals(now: datetime):
    has_entry = Order.objects.filter(signal=OuterRef("pk"), side=Order.Side.ENTRY)
    return (
        Signal.objects.filter(status=Signal.Status.APPROVED, created_at__gte=now - LOOKBACK)
        .filter(Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now))
        .exclude(Exists(has_entry))
        .order_by("created_at")
        .only(*_SIGNAL_FIELDS)
    )


def _process(signals: list[Signal], now: datetime, result: StageResult) -> None:
    recommendations = _recommendations(signals)
    service = marketdata.get_service()
    spots: dict[str, Decimal | MarketDataUnavailable] = {}
    legacy_quantity: list[int] = []  # read once, only if a legacy signal needs it
    planned: list[tuple[Signal, OrderPlan | _Failure]] = []
    for signal in signals:
        try:
            plan = _plan(signal, recommendations.get(signal.experiment_id), now, service, spots, legacy_quantity)
        except _Failure as failure:
            plan = failure
        except Exception as exc:  # one bad signal must not stop the batch
            logger.exception("order creator: planning signal %s failed", signal.signal_id)
            result.error(f"{signal.signal_id}: {type(exc).__name__}: {exc}")
            continue
        planned.append((signal, plan))

    recent = _recent_entries([p.option_symbol for _, p in planned if isinstance(p, OrderPlan)], now)
    for signal, plan in planned:
        try:
            if isinstance(plan, OrderPlan) and settings.ENABLE_SAME_STRIKE_COOLDOWN and blocking_entry(
                option_symbol=plan.option_symbol, engine=plan.engine, is_test=plan.is_test, source=plan.source,
                recent=recent, now=now, minutes=settings.COOLDOWN_MINUTES_SAME_STRIKE,
            ):
                plan = _Failure(SAME_STRIKE_COOLDOWN)
            if isinstance(plan, _Failure):
                result.count(_record_failure(signal, plan.why, now))
                continue
            outcome = _commit(plan, now)
            result.count(outcome)
            if outcome == "created":
                recent.append(RecentEntry(plan.option_symbol, plan.engine, plan.is_test, plan.source, pending=True))
        except Exception as exc:
            logger.exception("order creator: signal %s failed", signal.signal_id)
            result.error(f"{signal.signal_id}: {type(exc).__name__}: {exc}")


def _recommendations(signals: list[Signal]) -> dict[uuid.UUID, DecisionRecommendation]:
    experiment_ids = {s.experiment_id for s in signals if s.experiment_id}
    if not experiment_ids:
        return {}
    rows = DecisionRecommendation.objects.filter(
        experiment_id__in=experiment_ids, is_shadow=False, decision=DecisionRecommendation.Decision.ENTER,
    ).only("experiment_id", "engine", "strike", "expiration", "quantity")
    return {row.experiment_id: row for row in rows}


def _recent_entries(option_symbols: list[str], now: datetime) -> list[RecentEntry]:
    """Live entry orders on these contracts: pending ones, and ones filled within the cooldown."""
    if not option_symbols or not settings.ENABLE_SAME_STRIKE_COOLDOWN:
        return []
    minutes = settings.COOLDOWN_MINUTES_SAME_STRIKE
    since = now - timedelta(minutes=minutes)
    # A filled entry filled at most ORDER_EXPIRATION_MINUTES after it was created: bounds the scan.
    created_since = since - timedelta(minutes=settings.ORDER_EXPIRATION_MINUTES + 5)
    rows = Order.objects.filter(side=Order.Side.ENTRY, option_symbol__in=set(option_symbols)).filter(
        Q(status=Order.Status.PENDING_EXECUTION)
        | Q(status=Order.Status.FILLED, created_at__gte=created_since, trade__fill_timestamp__gte=since)
    ).values_list("option_symbol", "engine", "is_test", "status", "trade__fill_timestamp", "signal__raw_payload")
    return [
        RecentEntry(symbol, engine, is_test, webhook_source(payload), status == Order.Status.PENDING_EXECUTION, filled_at)
        for symbol, engine, is_test, status, filled_at, payload in rows
    ]


# --- planning (reads market data; no transaction open) -------------------------------------------


def _spot(symbol: str, service, spots: dict) -> Decimal:
    if symbol not in spots:
        try:
            spots[symbol] = service.stock_quote(symbol).price
        except MarketDataUnavailable as exc:
            spots[symbol] = exc
    value = spots[symbol]
    if isinstance(value, MarketDataUnavailable):
        raise _Failure(value.reason)
    return value


def _plan(signal: Signal, rec: DecisionRecommendation | None, now: datetime, service, spots: dict, legacy_quantity: list[int]) -> OrderPlan:
    # The orchestrator's one definition of age (alert time, or release from the market-closed queue).
    if now - signal_clock(signal).age_reference > timedelta(minutes=settings.SIGNAL_MAX_AGE_MINUTES):
        raise _Failure(SIGNAL_STALE)
    right = OptionRight.for_direction(signal.direction)
    spot = _spot(signal.symbol, service, spots)  # SPEC §7: no price, no order (retried)
    if rec is not None and rec.strike is not None and rec.expiration is not None:
        strike, expiration = rec.strike, rec.expiration
    else:
        strike, expiration = _legacy_contract(signal, right, spot, now, service)
    if expiry_moment(expiration) <= now:
        raise _Failure(CONTRACT_EXPIRED)
    quantity = rec.quantity if rec is not None and rec.quantity else _legacy_quantity(legacy_quantity)
    return OrderPlan(
        signal_id=signal.signal_id, symbol=signal.symbol, right=right, strike=strike, expiration=expiration,
        quantity=max(int(quantity), 1), engine=rec.engine if rec is not None else None,
        experiment_id=signal.experiment_id, is_test=is_test(signal), source=webhook_source(signal.raw_payload),
    )


def _legacy_contract(signal: Signal, right: OptionRight, spot: Decimal, now: datetime, service):
    setup = setup_type_of(signal.timeframe) or DEFAULT_SETUP
    expiration = target_expiration(market_calendar.market_date(now), setup)
    try:
        chain = service.option_chain(signal.symbol, expiration)
    except MarketDataUnavailable:
        return choose_strike(spot, right), expiration  # no chain: by the symbol's increment
    choice = choose_contract(signal.direction, spot, chain, now)
    if isinstance(choice, str):
        raise _Failure(choice)
    return choice.strike, choice.expiration


def _legacy_quantity(memo: list[int]) -> int:
    if not memo:
        limits = get_active_risk_limit()
        size = limits.max_position_size if limits else 1
        memo.append(min(max(size, 1), settings.MAX_CONTRACTS_PER_TRADE))
    return memo[0]


# --- writes ----------------------------------------------------------------------------------------


def _commit(plan: OrderPlan, now: datetime) -> str:
    """`created`, `already_done` (another creator won) or `not_approved` (the signal changed)."""
    try:
        with entry_point_transaction():
            order_id = create_entry_order(plan=plan, now=now)
    except IntegrityError:
        # The unique constraint caught a concurrent creator: fine, unless something else failed.
        if Order.objects.filter(signal_id=plan.signal_id, side=Order.Side.ENTRY).exists():
            return "already_done"
        raise
    return "created" if order_id else "not_approved"


def create_entry_order(*, plan: OrderPlan, now: datetime) -> uuid.UUID | None:
    """Insert the entry order for an approved signal and enqueue the executor on commit.

    Requires the caller's transaction. Locks the signal row (PostgreSQL) so the order cannot be
    created for a signal a concurrent creator is rejecting. Returns None when the signal is no
    longer approved. Raises IntegrityError when the signal already has an entry order.
    """
    require_transaction()
    still_approved = (
        Signal.objects.select_for_update(no_key=True)
        .filter(pk=plan.signal_id, status=Signal.Status.APPROVED)
        .values_list("pk", flat=True)
        .first()
    )
    if still_approved is None:
        return None
    order = Order.objects.create(
        signal_id=plan.signal_id, side=Order.Side.ENTRY, symbol=plan.symbol, option_symbol=plan.option_symbol,
        occ_symbol=occ_symbol(plan.symbol, plan.expiration, plan.right, plan.strike), strike=plan.strike,
        expiration=plan.expiration, type=plan.right.value, quantity=plan.quantity, engine=plan.engine,
        experiment_id=plan.experiment_id, order_type=Order.OrderType.PAPER, status=Order.Status.PENDING_EXECUTION,
        attempts=0, is_test=plan.is_test, created_at=now, updated_at=now,
    )
    after_commit("execute", order.order_id)
    return order.order_id


def _record_failure(signal: Signal, why: str, now: datetime) -> str:
    """Reject the signal (`order_creation_failed:<why>`) or schedule its next attempt."""
    attempts = signal.processing_attempts + 1 if signal.queue_reason == RETRY_MARKER else 1
    final = why in FINAL_REASONS or attempts >= settings.ORDER_CREATE_MAX_ATTEMPTS
    no_entry_order = ~Exists(Order.objects.filter(signal=OuterRef("pk"), side=Order.Side.ENTRY))
    guarded = Signal.objects.filter(no_entry_order, pk=signal.signal_id, status=Signal.Status.APPROVED)
    with entry_point_transaction():
        if final:
            changed = guarded.update(
                status=Signal.Status.REJECTED, rejection_reason=f"{FAILED}:{why}", next_retry_at=None,
            )
        else:
            delay = RETRY_BASE_SECONDS * 2 ** (attempts - 1)
            changed = guarded.update(
                processing_attempts=attempts, queue_reason=RETRY_MARKER, next_retry_at=now + timedelta(seconds=delay),
            )
    if not changed:
        return "already_done"
    if final:
        logger.info("signal %s rejected: %s:%s", signal.signal_id, FAILED, why)
    return f"rejected:{why}" if final else f"retry:{why}"
