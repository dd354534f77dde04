"""Exit orders: the exit monitor's writes and the operator's "close position" (SPEC §10, §13).

An exit order is an `orders` row with `side = exit`, the position set, no signal, `quantity` =
contracts to close, `exit_reason` = the primary code, `exit_reason_codes` = every code, status
`pending_execution`, and the contract, engine, experiment and `is_test` copied from the position.
The paper executor fills it. A full exit sets the position `closing`; a partial leaves it `open`
and appends the rung / check ids to `partials_taken` in the same transaction, so it fires once.
At most one open exit order per position is guaranteed by a unique constraint
(`orders_one_open_exit_per_position`); callers check first and treat an IntegrityError at their
entry point as "already done".

Lock order, the same as the paper executor's (so neither can deadlock the other): the position,
then its open exit orders. The monitor locks positions and only inserts orders.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from optionsengine.lib.transactions import require_transaction
from orders_app.models import Order
from positions_app.engines import exit_reasons
from positions_app.engines.exit_inputs import FULL, ExitDecision
from positions_app.models import Position

logger = logging.getLogger(__name__)


def build_exit_order(position: Position, *, quantity: int, reason: str, codes: Sequence[str], now: datetime) -> Order:
    """An unsaved exit order for `quantity` of the position's contracts."""
    return Order(
        signal=None,
        position=position,
        side=Order.Side.EXIT,
        symbol=position.symbol,
        option_symbol=position.option_symbol,
        occ_symbol=position.occ_symbol,
        strike=position.strike,
        expiration=position.expiration,
        type=position.type,
        quantity=quantity,
        engine=position.engine,
        experiment_id=position.experiment_id,
        order_type=Order.OrderType.PAPER,
        status=Order.Status.PENDING_EXECUTION,
        exit_reason=reason,
        exit_reason_codes=list(codes),
        is_test=position.is_test,
        created_at=now,
        updated_at=now,
    )


def _merge_codes(first: Sequence[str], then: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*first, *then]))


def apply_exit_decision(position: Position, decision: ExitDecision, now: datetime) -> Order:
    """Mutate the (locked) position for `decision` and return its unsaved exit order.

    The caller saves both (the monitor in bulk). Full: status `closing`, `exit_reason`, codes.
    Partial: status stays `open`, the decision's keys are appended to `partials_taken`.
    """
    if decision.action == FULL:
        position.status = Position.Status.CLOSING
        position.exit_reason = decision.reason
        position.exit_reason_codes = _merge_codes(decision.codes, position.exit_reason_codes or [])
    else:
        position.partials_taken = _merge_codes(position.partials_taken or [], decision.partial_keys)
        position.exit_reason_codes = _merge_codes(position.exit_reason_codes or [], decision.codes)
    if decision.trailing_stop_price is not None:
        position.trailing_stop_price = decision.trailing_stop_price
    position.last_updated = now
    return build_exit_order(position, quantity=decision.quantity, reason=decision.reason, codes=decision.codes, now=now)


def request_close(*, position_id, reason: str = exit_reasons.MANUAL_CLOSE, now: datetime) -> tuple[Order | None, str]:
    """Create a full exit order for one open position (the admin's "close position").

    Requires the caller's transaction. A pending partial exit order is cancelled (guarded on its
    status, so one the executor has already filled is left alone) and replaced by the full one.
    Returns (order or None, outcome): `created`, `not_open` (closing, closed or missing).
    """
    require_transaction()
    if reason not in exit_reasons.FORCED:
        raise ValueError(f"{reason!r} is not a forced exit reason")
    position = Position.objects.select_for_update().filter(pk=position_id).first()
    if position is None or position.status != Position.Status.OPEN or position.quantity <= 0:
        return None, "not_open"
    pending = list(
        Order.objects.select_for_update().filter(
            position_id=position_id, side=Order.Side.EXIT, status=Order.Status.PENDING_EXECUTION,
        ).order_by("pk")
    )
    for order in pending:
        Order.objects.filter(pk=order.pk, status=Order.Status.PENDING_EXECUTION).update(
            status=Order.Status.CANCELLED, failure_reason=f"replaced by {reason}", updated_at=now,
        )
    decision = ExitDecision(action=FULL, quantity=position.quantity, reason=reason, codes=(reason,))
    order = apply_exit_decision(position, decision, now)
    position.save(update_fields=["status", "exit_reason", "exit_reason_codes", "last_updated"])
    order.save()
    logger.info("exit order %s (%s) for position %s", order.pk, reason, position.pk)
    return order, "created"
