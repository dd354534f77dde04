"""Stage 7 — exit monitor (SPEC §10): forced closes, exit intelligence, tiers, exit rules.

One batched pass per sweep, a fixed number of queries whatever the number of positions:
1. outside any transaction: list the open positions (one query), and — only while the regular
   session is open — fetch every distinct option quote and the symbols' fresh bias states (one
   query); the exit rules row and the tuned macro-drift threshold (cached 30 s) are read once;
2. in one transaction: lock the open positions (PostgreSQL; SQLite serializes writers), read
   which already have an open exit order (one query), ask `positions_app.engines.exit_engine`
   for each position's verdict, then write every exit order with one bulk insert and every
   changed position with one bulk update;
3. on commit: the paper executor is asked to fill each new order, and `position_update` /
   `risk_update` are published for positions that started closing.

Outside the regular session only forced closes are evaluated (emergency risk-off, expiry day);
the other layers wait for the open. A position that already has an open exit order is skipped:
the unique constraint allows one, and the re-read under the lock makes two monitors agree.

Settings read (all optional): EMERGENCY_RISK_OFF, EXIT_MIN_HOLD_MINUTES (5),
EXPIRATION_DAY_CLOSE_LEAD_MINUTES (30), STALE_PRICE_FORCE_CLOSE_SECONDS (180),
STALE_PRICE_FORCE_CLOSE_LOSS_PERCENT (-10).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction

from optionsengine.lib import market_calendar
from optionsengine.lib.transactions import entry_point_transaction
from optionsengine.pipeline import events, followups
from optionsengine.pipeline.bulk_write import bulk_update_rows
from optionsengine.pipeline.exit_orders import apply_exit_decision, build_exit_order
from optionsengine.pipeline.position_inputs import (
    contract_key,
    exit_rules_config,
    fetch_quotes,
    fresh_bias_states,
    macro_drift_threshold,
    position_key,
    position_view,
)
from optionsengine.pipeline.stage import StageResult
from orders_app.models import Order
from positions_app.engines import exit_reasons
from positions_app.engines.exit_engine import evaluate_exit
from positions_app.engines.exit_inputs import FULL, ExitRulesConfig, ExitSettings
from positions_app.models import Position

logger = logging.getLogger(__name__)

STAGE = "exit_monitor"
POSITION_FIELDS = (
    "status", "exit_reason", "exit_reason_codes", "partials_taken", "trailing_stop_price", "last_updated",
)
BULK_BATCH_SIZE = 500
ATTEMPTS = 2  # a lost race on the unique constraint is retried once; the re-read then skips it


def exit_settings() -> ExitSettings:
    return ExitSettings(
        emergency_risk_off=bool(getattr(settings, "EMERGENCY_RISK_OFF", False)),
        macro_drift_threshold=macro_drift_threshold(),
        min_hold_minutes=int(getattr(settings, "EXIT_MIN_HOLD_MINUTES", 5)),
        expiry_close_lead_minutes=int(getattr(settings, "EXPIRATION_DAY_CLOSE_LEAD_MINUTES", 30)),
        stale_force_close_seconds=int(getattr(settings, "STALE_PRICE_FORCE_CLOSE_SECONDS", 180)),
        stale_force_close_loss_percent=Decimal(str(getattr(settings, "STALE_PRICE_FORCE_CLOSE_LOSS_PERCENT", -10))),
    )


def sweep(*, now: datetime) -> StageResult:
    result = StageResult(STAGE)
    market_open = market_calendar.is_regular_hours(now)
    listed = list(
        Position.objects.filter(status=Position.Status.OPEN).values_list("pk", "symbol", "expiration", "type", "strike")
    )
    if not market_open:
        result.count("market_closed")
    quotes, states = {}, {}
    if market_open and listed:
        quotes = fetch_quotes(contract_key(*row[1:]) for row in listed)
        states = fresh_bias_states((row[1] for row in listed), now)
    rules = exit_rules_config()
    config = exit_settings()
    ids = [row[0] for row in listed]
    for attempt in range(1, ATTEMPTS + 1):
        attempt_result = StageResult(STAGE)
        try:
            with entry_point_transaction():
                monitor_positions(
                    ids=ids, quotes=quotes, states=states, rules=rules, config=config,
                    now=now, market_open=market_open, result=attempt_result,
                )
        except IntegrityError:
            # Another process created an exit order for one of these positions between our read
            # and our insert (only possible without row locks): everything rolled back; re-read.
            logger.warning("exit monitor lost a race on an exit order (attempt %d)", attempt)
            if attempt == ATTEMPTS:
                raise
            continue
        result.counts.update(attempt_result.counts)
        break
    return result


def monitor_positions(
    *,
    ids: list,
    quotes: dict,
    states: dict,
    rules: ExitRulesConfig,
    config: ExitSettings,
    now: datetime,
    market_open: bool,
    result: StageResult,
) -> list[Order]:
    """Evaluate the still-open positions among `ids` and write their exits. Requires the caller's
    transaction; locks the positions (ordered by primary key)."""
    positions = list(
        Position.objects.select_for_update(of=("self",)).filter(pk__in=ids, status=Position.Status.OPEN).order_by("pk")
    ) if ids else []
    busy = set() if not positions else set(
        Order.objects.filter(
            position_id__in=[p.pk for p in positions], side=Order.Side.EXIT, status=Order.Status.PENDING_EXECUTION,
        ).values_list("position_id", flat=True)
    )
    orders: list[Order] = []
    changed: list[Position] = []
    closing: list[Position] = []
    for position in positions:
        if position.pk in busy:
            result.count("exit_order_pending")
            continue
        quote = quotes.get(position_key(position))
        if market_open and quote is None:
            result.count("quote_unavailable")
        decision = evaluate_exit(
            position_view(position), quote, states.get(position.symbol),
            rules=rules, settings=config, now=now, market_open=market_open,
        )
        if decision.exits:
            orders.append(apply_exit_decision(position, decision, now))
            changed.append(position)
            if decision.action == FULL:
                closing.append(position)
            result.count(f"{decision.action}_exit:{decision.reason}")
            logger.info(
                "%s exit of %d× %s (position %s): %s — %s", decision.action, decision.quantity,
                position.option_symbol, position.pk, ", ".join(decision.codes), "; ".join(decision.details),
            )
        elif decision.trailing_stop_price != position.trailing_stop_price:
            position.trailing_stop_price = decision.trailing_stop_price
            changed.append(position)
            result.count("stop_adjusted")
        else:
            result.count("hold")
    if orders:
        Order.objects.bulk_create(orders, batch_size=BULK_BATCH_SIZE)
        followups.after_commit_many("execute", (order.pk for order in orders))
    if changed:
        bulk_update_rows(changed, POSITION_FIELDS, batch_size=BULK_BATCH_SIZE)
    if closing:
        transaction.on_commit(partial(events.publish_positions, closing, now))
    reissue_stuck_exits(now=now, result=result)
    return orders


def reissue_stuck_exits(*, now: datetime, result: StageResult) -> list[Order]:
    """`closing` positions with contracts left and no open exit order (their order failed or was
    cancelled) get a new full exit order with the same reason: a closing position must close.
    Requires the caller's transaction. Two queries when nothing is stuck."""
    pending = Order.objects.filter(side=Order.Side.EXIT, status=Order.Status.PENDING_EXECUTION)
    stuck = list(
        Position.objects.select_for_update(of=("self",))
        .filter(status=Position.Status.CLOSING, quantity__gt=0)
        .exclude(pk__in=pending.values("position_id"))
        .order_by("pk")
    )
    if not stuck:
        return []
    orders = [
        build_exit_order(
            p, quantity=p.quantity, reason=p.exit_reason or exit_reasons.STUCK_CLOSING_REISSUE,
            codes=p.exit_reason_codes or [p.exit_reason or exit_reasons.STUCK_CLOSING_REISSUE], now=now,
        )
        for p in stuck
    ]
    Order.objects.bulk_create(orders, batch_size=BULK_BATCH_SIZE)
    followups.after_commit_many("execute", (order.pk for order in orders))
    result.count("exit_reissued", len(orders))
    return orders

