"""Reads for the P&L page: closed positions as `ClosedTrade`s, in one query."""

from __future__ import annotations

from django.db.models import F
from django.db.models.functions import Coalesce

from positions_app.engines.performance import ClosedTrade
from positions_app.models import Position


def list_closed_trades(*, include_test: bool = False) -> list[ClosedTrade]:
    """Every closed position (test traffic excluded unless asked), in closing order.

    One query: the R multiple comes from the position's trade-performance row through a LEFT
    JOIN (a position closed before that row existed simply has no R). `closed_at` falls back to
    `last_updated` for a closed row without an exit timestamp, so it still lands on the curve.
    """
    qs = Position.objects.filter(status=Position.Status.CLOSED)
    if not include_test:
        qs = qs.filter(is_test=False)
    rows = (
        qs.annotate(closed_at=Coalesce("exit_timestamp", "last_updated"), r=F("performance__pnl_r"))
        .order_by("closed_at", "position_id")
        .values_list("position_id", "symbol", "engine", "closed_at", "realized_pnl", "r")
    )
    return [
        ClosedTrade(position_id=str(pid), symbol=symbol, engine=engine, closed_at=closed_at,
                    realized_pnl=realized, r_multiple=r)
        for pid, symbol, engine, closed_at, realized, r in rows
    ]
