"""Stage 5 — paper executor (SPEC §8): pending paper orders become trades and positions.

Per sweep:
1. Expire: pending *entry* orders older than ORDER_EXPIRATION_MINUTES → `expired` (one guarded
   UPDATE; the reason keeps the last wait reason). Exit orders never expire: they are retried.
2. Read the batch (exits first, then entries, oldest first) and, outside any transaction, the
   option quote of every contract, the underlying price and bias state for entries.
3. One durable transaction per order. Claim: PostgreSQL `FOR NO KEY UPDATE SKIP LOCKED` on the
   order (a competing executor skips it), SQLite a status-guarded UPDATE (the IMMEDIATE
   transaction serializes writers). `trades.order_id` is unique, so nothing fills twice even if
   a claim were lost. Lock order for exits: position, then its order (the exit monitor locks the
   position before inserting an order, so the reverse could deadlock); both with SKIP LOCKED on
   PostgreSQL, so executors never wait for each other.

Waiting (order stays `pending_execution`, `attempts` + 1, `failure_reason` records why; nothing
else is written): no option quote (`market_data_unavailable`), a last-known quote for an entry
(`quote_stale`; exits accept it), the contract of an exit has expired. Outside regular hours
non-test orders simply wait for the open (reference §10 item 19; test traffic fills at any hour).

Daily cap: `risk_limits.max_daily_trades` > 0 limits *entry* fills of non-test orders per New
York trading day; an entry over the cap becomes `failed` with `daily_trade_cap_reached` (a
leftover order would otherwise fill as a late entry). Exits are never counted or blocked. The
check runs inside the fill transaction, serialized by an advisory lock on PostgreSQL.

Entry fill: trade, order `filled`, position `open` with entry context (bias state, greeks/IV,
underlying, setup type from the signal's timeframe), and the `bias_trade_performance` row with
that context (source `simulation` for test traffic, else `live`).
Exit fill: trade with its realized P&L (`pnl.realized_pnl`), added to the position's
`realized_pnl`; quantity decreases; at 0 the position is `closed` and its performance row is
completed, otherwise it is (back to) `open`. Every fill publishes `position_update` on commit;
each batch with fills then publishes one `risk_update` (the portfolio after all of them).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, TextField, Value, When
from django.db.models.functions import Concat

from bias_app.models import BiasTradePerformance
from bias_app.selectors import get_bias_state
from optionsengine import marketdata
from optionsengine.lib import market_calendar, money
from optionsengine.lib.option_contracts import OptionRight, expiry_moment
from optionsengine.lib.transactions import entry_point_transaction, require_transaction
from optionsengine.marketdata import MarketDataUnavailable
from optionsengine.marketdata.types import OptionContract, OptionQuote
from optionsengine.pipeline import events
from optionsengine.pipeline.stage import StageResult
from orders_app.engines import fills
from orders_app.models import Order, Trade
from orders_app.selectors import get_active_risk_limit
from positions_app.engines import pnl
from positions_app.models import Position
from positions_app.selectors import get_active_exit_rule
from signals_app.engines.setup_type import setup_type_of

logger = logging.getLogger(__name__)

STAGE = "paper_executor"
BATCH_SIZE = 100
DEFAULT_STOP_LOSS_PERCENT = Decimal("50")  # the seeded exit rule, when every row is disabled
DAILY_CAP_REACHED = "daily_trade_cap_reached"
CONTRACT_EXPIRED = "contract_expired"
EXPIRED_REASON = "order_expired"
_CAP_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('optionsengine:daily-entry-cap'))"

_ORDER_FIELDS = (
    "order_id", "signal_id", "position_id", "side", "symbol", "option_symbol", "occ_symbol", "strike",
    "expiration", "type", "quantity", "engine", "experiment_id", "exit_reason", "exit_reason_codes",
    "is_test", "created_at",
)


@dataclass(frozen=True)
class EntryContext:
    """What is known about the market when an entry fills (fetched before the transaction)."""

    underlying_price: Decimal | None
    bias_state: dict | None
    setup_type: str | None


class _Wait(Exception):
    """The order stays pending (attempt counted, reason recorded)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Fail(_Wait):
    """The order can never fill: `failed` with the reason."""


# --- entry points ----------------------------------------------------------------------------------


def sweep(*, now: datetime) -> StageResult:
    """Expire stale entries, then fill what can be filled (up to BATCH_SIZE orders)."""
    result = StageResult(STAGE)
    expired = expire_stale_entries(now=now)
    if expired:
        result.count("expired", expired)
    orders = list(_pending_orders()[:BATCH_SIZE])
    if orders:
        _process(orders, now, result)
    return result


def execute_order(order_id: uuid.UUID | str, now: datetime) -> str:
    """The fast path for one order (enqueued by the order creator and the exit monitor on commit)."""
    result = StageResult(STAGE)
    expire_stale_entries(now=now)
    orders = list(_pending_orders().filter(pk=order_id))
    if not orders:
        return "not_pending"
    _process(orders, now, result)
    if result.errors:
        return f"error:{result.errors[0]}"
    return next(iter(result.counts), "not_pending")


def expire_stale_entries(*, now: datetime) -> int:
    """Pending entry orders older than ORDER_EXPIRATION_MINUTES → `expired` (one guarded UPDATE)."""
    reason = Case(
        When(failure_reason__isnull=True, then=Value(EXPIRED_REASON)),
        default=Concat(Value(f"{EXPIRED_REASON}; last: "), F("failure_reason"), output_field=TextField()),
        output_field=TextField(),
    )
    with entry_point_transaction():
        return Order.objects.filter(
            status=Order.Status.PENDING_EXECUTION, side=Order.Side.ENTRY, order_type=Order.OrderType.PAPER,
            created_at__lt=now - _expiry_age(),
        ).update(status=Order.Status.EXPIRED, failure_reason=reason, updated_at=now)


def _expiry_age() -> timedelta:
    return timedelta(minutes=settings.ORDER_EXPIRATION_MINUTES)


# --- the batch ---------------------------------------------------------------------------------


def _pending_orders():
    return (
        Order.objects.filter(status=Order.Status.PENDING_EXECUTION, order_type=Order.OrderType.PAPER)
        .annotate(signal_timeframe=F("signal__timeframe"))
        .order_by("-side", "created_at")  # exits ("exit" > "entry") first: closing risk comes first
        .only(*_ORDER_FIELDS)
    )


def _process(orders: list[Order], now: datetime, result: StageResult) -> None:
    service = marketdata.get_service()
    market_open = market_calendar.is_regular_hours(now)
    quotes: dict[str, OptionQuote | MarketDataUnavailable] = {}
    bias_states: dict[str, dict | None] = {}
    has_entries = any(o.side == Order.Side.ENTRY for o in orders)
    limits = get_active_risk_limit() if has_entries else None
    cap = limits.max_daily_trades if limits else 0
    entries_left = cap - _entry_fills_today(now) if cap > 0 else None
    stop_loss_percent: list[Decimal] = []  # read once, only when an exit fills

    for order in orders:
        try:
            if not order.is_test and not market_open:
                result.count("waiting:market_closed")
                continue
            capped = order.side == Order.Side.ENTRY and not order.is_test and entries_left is not None
            if capped and entries_left <= 0:
                result.count(_fail(order, DAILY_CAP_REACHED, now))
                continue
            fill, quote = _price(order, service, quotes, now)
            if order.side == Order.Side.ENTRY:
                context = _entry_context(order, quote, service, bias_states, now)
                outcome = _commit_entry(order, fill, quote, context, cap, now)
                if capped and outcome == "filled:entry":
                    entries_left -= 1
            else:
                if not stop_loss_percent:
                    rule = get_active_exit_rule()
                    stop_loss_percent.append(rule.stop_loss_percent if rule else DEFAULT_STOP_LOSS_PERCENT)
                outcome = _commit_exit(order, fill, stop_loss_percent[0], now)
            result.count(outcome)
        except _Fail as failure:
            result.count(_fail(order, failure.reason, now))
        except _Wait as wait:
            result.count(_record_wait(order, wait.reason, now))
        except Exception as exc:  # one bad order must not stop the batch; it is retried next sweep
            logger.exception("paper executor: order %s failed", order.order_id)
            result.error(f"{order.order_id}: {type(exc).__name__}: {exc}")
    if any(outcome.startswith("filled") for outcome in result.counts):
        # The portfolio after this batch's fills. Each fill committed in its own transaction, so
        # outside a transaction this runs at once; inside one (a caller's, or a test's) on commit.
        transaction.on_commit(lambda: events.publish_risk(now))


def _entry_fills_today(now: datetime) -> int:
    start, end = market_calendar.trading_day_bounds(market_calendar.market_date(now))
    return Trade.objects.filter(
        order__side=Order.Side.ENTRY, is_test=False, fill_timestamp__gte=start, fill_timestamp__lt=end,
    ).count()


# --- market inputs (no transaction open) -----------------------------------------------------------


def _contract(order: Order) -> OptionContract:
    return OptionContract(order.symbol, order.expiration, OptionRight(order.type), order.strike)


def _price(order: Order, service, quotes: dict, now: datetime) -> tuple[fills.PaperFill, OptionQuote]:
    if expiry_moment(order.expiration) <= now:
        if order.side == Order.Side.ENTRY:
            raise _Fail(CONTRACT_EXPIRED)  # can never fill
        raise _Wait(CONTRACT_EXPIRED)  # an exit waits for an operator (no settlement model yet)
    key = order.occ_symbol
    if key not in quotes:
        try:
            quotes[key] = service.option_quote(_contract(order))
        except MarketDataUnavailable as exc:
            quotes[key] = exc
    quote = quotes[key]
    if isinstance(quote, MarketDataUnavailable):
        raise _Wait(quote.reason)
    if quote.stale and order.side == Order.Side.ENTRY:
        raise _Wait("quote_stale")  # never open on a last-known quote; a close may use one
    fill = fills.price_fill(
        side=order.side, symbol=order.symbol, mid=quote.mid, bid=quote.bid, ask=quote.ask,
        slippage_fraction=Decimal(str(settings.PAPER_SLIPPAGE_FRACTION)),
    )
    return fill, quote


def _entry_context(order: Order, quote: OptionQuote, service, bias_states: dict, now: datetime) -> EntryContext:
    underlying = quote.underlying_price
    if underlying is None:
        try:
            underlying = service.stock_quote(order.symbol).price
        except MarketDataUnavailable:
            underlying = None  # context, not a condition of the fill
    if order.symbol not in bias_states:
        try:
            bias_states[order.symbol] = get_bias_state(order.symbol, now=now)
        except Exception:  # context only: a broken bias read must not block the fill
            logger.exception("paper executor: bias state for %s unavailable", order.symbol)
            bias_states[order.symbol] = None
    return EntryContext(underlying, bias_states[order.symbol], setup_type_of(getattr(order, "signal_timeframe", None)))


# --- writes: one durable transaction per order -------------------------------------------------------


def _commit_entry(order: Order, fill, quote, context: EntryContext, cap: int, now: datetime) -> str:
    with entry_point_transaction():
        position = fill_entry_order(order=order, fill=fill, quote=quote, context=context, daily_cap=cap, now=now)
    return position if isinstance(position, str) else "filled:entry"


def _commit_exit(order: Order, fill, stop_loss_percent: Decimal, now: datetime) -> str:
    with entry_point_transaction():
        position = fill_exit_order(order=order, fill=fill, stop_loss_percent=stop_loss_percent, now=now)
    if isinstance(position, str):
        return position
    return "filled:close" if position.status == Position.Status.CLOSED else "filled:partial"


def _claim(order: Order, now: datetime, *, status: str = Order.Status.FILLED, reason: str | None = None) -> bool:
    """Move a pending order to `status` if this worker gets it. Requires the caller's transaction."""
    pending = Order.objects.filter(pk=order.order_id, status=Order.Status.PENDING_EXECUTION)
    if connection.vendor == "postgresql":
        # A competing executor holding the row is skipped, not waited for.
        if pending.select_for_update(skip_locked=True, no_key=True).values_list("pk", flat=True).first() is None:
            return False
    changed = pending.update(status=status, failure_reason=reason, attempts=F("attempts") + 1, updated_at=now)
    return changed == 1


def _daily_cap_reached(cap: int, now: datetime) -> bool:
    if cap <= 0:
        return False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_CAP_LOCK_SQL)  # concurrent entry fills count one after another
    return _entry_fills_today(now) >= cap


def fill_entry_order(*, order: Order, fill, quote: OptionQuote, context: EntryContext, daily_cap: int, now: datetime):
    """Fill a pending entry order: trade, position `open`, performance row. Requires a transaction.

    Returns the new Position, or a string outcome when nothing was filled (`skipped`: another
    executor has or had the order; `failed:daily_trade_cap_reached`).
    """
    require_transaction()
    if not order.is_test and _daily_cap_reached(daily_cap, now):
        return "failed:daily_trade_cap_reached" if _claim(order, now, status=Order.Status.FAILED, reason=DAILY_CAP_REACHED) else "skipped"
    if not _claim(order, now):
        return "skipped"
    _insert_trade(order, fill, now, realized=None)
    bias = _bias_fields(context.bias_state)
    greeks = quote.greeks
    position = Position.objects.create(
        entry_order_id=order.order_id, symbol=order.symbol, option_symbol=order.option_symbol,
        occ_symbol=order.occ_symbol, strike=order.strike, expiration=order.expiration, type=order.type,
        quantity=order.quantity, initial_quantity=order.quantity, entry_price=fill.price,
        current_price=fill.mid, underlying_entry_price=_price_or_none(context.underlying_price),
        unrealized_pnl=pnl.unrealized_pnl(fill.price, fill.mid, order.quantity), realized_pnl=Decimal("0.00"),
        position_pnl_percent=pnl.pnl_percent(fill.price, fill.mid), status=Position.Status.OPEN,
        entry_timestamp=now, last_updated=now, partials_taken=[], engine=order.engine,
        experiment_id=order.experiment_id, entry_bias_score=bias["score"], entry_regime_type=bias["regime"],
        entry_mode_hint=bias["intent"], entry_macro_class=bias["macro"],
        entry_acceleration_state_strength_delta=bias["acceleration"],
        greeks_at_entry=None if greeks is None else {
            "delta": str(greeks.delta), "gamma": str(greeks.gamma), "theta": str(greeks.theta), "vega": str(greeks.vega),
        },
        iv_at_entry=None if quote.iv is None else money.quantize(quote.iv, 6), setup_type=context.setup_type,
        is_test=order.is_test, created_at=now,
    )
    BiasTradePerformance.objects.create(
        position=position, symbol=order.symbol, direction="long" if order.type == "call" else "short",
        engine=order.engine, entry_bias_score=bias["score"], entry_macro_class=bias["macro"],
        entry_regime=bias["regime"], entry_intent=bias["intent"], entry_acceleration=bias["acceleration"],
        exit_reason_codes=[], source=_performance_source(order), created_at=now,
    )
    transaction.on_commit(lambda: events.publish_position(position))
    return position


def fill_exit_order(*, order: Order, fill, stop_loss_percent: Decimal, now: datetime):
    """Fill a pending exit order against its position. Requires a transaction.

    Locks the position, realizes P&L for the filled contracts, closes the position (and completes
    its performance row) when no contracts remain. Returns the Position, or a string outcome
    (`skipped`, `failed:position_closed`).
    """
    require_transaction()
    # SKIP LOCKED: a competing executor filling this very order holds the position; waiting for it
    # would only serialize executors (the refresher's brief locks just delay the exit one sweep).
    position = Position.objects.select_for_update(no_key=True, skip_locked=True).filter(pk=order.position_id).first()
    if position is None and Position.objects.filter(pk=order.position_id).exists():
        return "skipped"  # locked by someone else: retried next sweep
    if position is None or position.status == Position.Status.CLOSED or position.quantity <= 0:
        claimed = _claim(order, now, status=Order.Status.FAILED, reason="position_closed")
        return "failed:position_closed" if claimed else "skipped"
    if not _claim(order, now):
        return "skipped"
    quantity = min(order.quantity, position.quantity)  # never sell more than is open
    realized = pnl.realized_pnl(position.entry_price, fill.price, quantity)
    # The position decides test-ness: an exit order written without the flag (reference §10
    # item 42) must not turn a test position's P&L into real P&L.
    _insert_trade(order, fill, now, realized=realized, quantity=quantity, is_test=position.is_test or order.is_test)
    position.quantity -= quantity
    position.realized_pnl += realized
    position.last_updated = now
    changed = ["quantity", "realized_pnl", "last_updated", "status", "unrealized_pnl", "current_price"]
    position.current_price = fill.mid
    if position.quantity == 0:
        position.status = Position.Status.CLOSED
        position.exit_price = fill.price
        position.exit_timestamp = now
        position.exit_reason = order.exit_reason or position.exit_reason
        # Keep the codes of earlier partial exits (the exit monitor records them on the position):
        # the tuner learns from every reason that took contracts off, not only the last one.
        position.exit_reason_codes = list(dict.fromkeys([*(position.exit_reason_codes or []),
                                                         *(order.exit_reason_codes or [])]))
        position.unrealized_pnl = Decimal("0.00")
        position.position_pnl_percent = pnl.total_pnl_percent(position.realized_pnl, position.entry_price, position.initial_quantity)
        changed += ["exit_price", "exit_timestamp", "exit_reason", "exit_reason_codes", "position_pnl_percent"]
    else:
        position.status = Position.Status.OPEN  # a partial: still open (back from `closing` if need be)
        position.unrealized_pnl = pnl.unrealized_pnl(position.entry_price, fill.mid, position.quantity)
    position.save(update_fields=changed)
    if position.status == Position.Status.CLOSED:
        _complete_performance(position, order, stop_loss_percent, now)
    transaction.on_commit(lambda: events.publish_position(position))
    return position


def _insert_trade(
    order: Order, fill, now: datetime, *, realized: Decimal | None, quantity: int | None = None, is_test: bool | None = None,
) -> None:
    Trade.objects.create(
        order_id=order.order_id, fill_price=fill.price, fill_quantity=quantity or order.quantity,
        fill_timestamp=now, commission=Decimal("0.00"), bid=fill.bid, ask=fill.ask, realized_pnl=realized,
        engine=order.engine, experiment_id=order.experiment_id,
        is_test=order.is_test if is_test is None else is_test, created_at=now,
    )


def _complete_performance(position: Position, order: Order, stop_loss_percent: Decimal, now: datetime) -> None:
    """P&L of the whole position at its final close (created here if the entry did not write it)."""
    risk = pnl.initial_risk(position.entry_price, position.initial_quantity, stop_loss_percent)
    codes = list(position.exit_reason_codes or ([position.exit_reason] if position.exit_reason else []))
    values = {
        "realized_pnl": position.realized_pnl,
        "pnl_percent": pnl.total_pnl_percent(position.realized_pnl, position.entry_price, position.initial_quantity),
        "pnl_r": pnl.r_multiple(position.realized_pnl, risk),
        "duration_minutes": round((now - position.entry_timestamp).total_seconds() / 60),
        "exit_reason_codes": codes,
        "closed_at": now,
    }
    if not BiasTradePerformance.objects.filter(position_id=position.position_id).update(**values):
        BiasTradePerformance.objects.create(
            position=position, symbol=position.symbol, direction="long" if position.type == "call" else "short",
            engine=position.engine, entry_bias_score=position.entry_bias_score,
            entry_macro_class=position.entry_macro_class, entry_regime=position.entry_regime_type,
            entry_intent=position.entry_mode_hint, entry_acceleration=position.entry_acceleration_state_strength_delta,
            source=_performance_source(order), created_at=now, **values,
        )


def _record_wait(order: Order, reason: str, now: datetime) -> str:
    """The order stays pending: count the attempt and say why (guarded: it may have been filled)."""
    with entry_point_transaction():
        Order.objects.filter(pk=order.order_id, status=Order.Status.PENDING_EXECUTION).update(
            attempts=F("attempts") + 1, failure_reason=reason, updated_at=now,
        )
    return f"waiting:{reason}"


def _fail(order: Order, reason: str, now: datetime) -> str:
    with entry_point_transaction():
        changed = Order.objects.filter(pk=order.order_id, status=Order.Status.PENDING_EXECUTION).update(
            status=Order.Status.FAILED, failure_reason=reason, updated_at=now,
        )
    return f"failed:{reason}" if changed else "skipped"


# --- pure helpers ----------------------------------------------------------------------------------


def _performance_source(order: Order) -> str:
    """Test traffic never feeds the tuner as live results (SPEC §11); replays (the demo, a backtest
    of recorded alerts) are `replay` via TRADE_PERFORMANCE_SOURCE."""
    if order.is_test:  # set by the order creator from the one test-traffic rule (E2E_TEST_MODE included)
        return BiasTradePerformance.Source.SIMULATION
    return settings.TRADE_PERFORMANCE_SOURCE


_SCORE_LIMIT = Decimal("999999")  # ScoreField: 10 digits, 4 dp


def _score(value) -> Decimal | None:
    try:
        number = money.to_decimal(value)
    except (money.MoneyParseError, ValueError):
        return None
    return money.quantize(number, 4) if abs(number) <= _SCORE_LIMIT else None


def _label(value, length: int) -> str | None:
    return value[:length] if isinstance(value, str) and value else None


def _bias_fields(state: dict | None) -> dict:
    state = state or {}
    risk_context = state.get("riskContext") if isinstance(state.get("riskContext"), dict) else {}
    acceleration = state.get("acceleration") if isinstance(state.get("acceleration"), dict) else {}
    return {
        "score": _score(state.get("biasScore")),
        "regime": _label(state.get("regimeType"), 32),
        "intent": _label(risk_context.get("entryModeHint"), 32),
        "macro": _label(state.get("macroClass"), 50),
        "acceleration": _score(acceleration.get("stateStrengthDelta")),
    }


def _price_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else money.price(value)
