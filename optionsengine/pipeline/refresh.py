"""Stage 6 — position refresher (SPEC §9): marks, P&L, high-water mark and trailing stop.

One batched pass per sweep, a fixed number of queries whatever the number of positions:
1. list the open positions' contracts (one query) and fetch every distinct option quote, outside
   any transaction;
2. in one transaction, lock the open positions (PostgreSQL; SQLite serializes writers), compute
   each position's mark (option mid), unrealized P&L and P&L % through the P&L module, the
   high-water mark and the trailing stop (`positions_app.engines.trailing`), and write them all
   with one bulk update;
3. on commit, publish a `position_update` per refreshed position and one `risk_update`.

Only `open` positions are marked (a `closing` position is the executor's). Outside the regular
session nothing is marked: option quotes are not live then, and a night-time mark would move the
trailing stop on prices nobody can trade. A position without a fresh quote keeps its last mark
and `last_updated` (the exit monitor's stale-price rule reads that age); it is counted.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.db import transaction

from optionsengine.lib import market_calendar
from optionsengine.lib.transactions import entry_point_transaction
from optionsengine.pipeline import events
from optionsengine.pipeline.bulk_write import bulk_update_rows
from optionsengine.pipeline.position_inputs import contract_key, exit_rules_config, fetch_quotes, position_key
from optionsengine.pipeline.stage import StageResult
from positions_app.engines import pnl
from positions_app.engines.trailing import refresh_trailing
from positions_app.models import Position

logger = logging.getLogger(__name__)

STAGE = "position_refresher"
UPDATED_FIELDS = (
    "current_price", "unrealized_pnl", "position_pnl_percent", "high_water_mark", "trailing_stop_price", "last_updated",
)
BULK_BATCH_SIZE = 500


def sweep(*, now: datetime) -> StageResult:
    result = StageResult(STAGE)
    if not market_calendar.is_regular_hours(now):
        result.count("market_closed")
        return result
    listed = list(
        Position.objects.filter(status=Position.Status.OPEN).values_list("pk", "symbol", "expiration", "type", "strike")
    )
    if not listed:
        return result
    quotes = fetch_quotes(contract_key(*row[1:]) for row in listed)
    rules = exit_rules_config()
    with entry_point_transaction():
        refresh_positions(ids=[row[0] for row in listed], quotes=quotes, rules=rules, now=now, result=result)
    return result


def refresh_positions(*, ids: list, quotes: dict, rules, now: datetime, result: StageResult) -> list[Position]:
    """Mark the still-open positions among `ids`. Requires the caller's transaction; locks them."""
    positions = list(
        Position.objects.select_for_update(of=("self",)).filter(pk__in=ids, status=Position.Status.OPEN).order_by("pk")
    )
    changed: list[Position] = []
    for position in positions:
        quote = quotes.get(position_key(position))
        if quote is None:
            result.count("quote_unavailable")
            continue
        if quote.stale:
            result.count("quote_stale")
            continue
        mark = quote.mark
        pct = pnl.pnl_percent(position.entry_price, mark)
        position.current_price = mark
        position.unrealized_pnl = pnl.unrealized_pnl(position.entry_price, mark, position.quantity)
        position.position_pnl_percent = pct
        position.high_water_mark, position.trailing_stop_price = refresh_trailing(
            entry_price=position.entry_price, mark=mark, pnl_percent=pct,
            high_water_mark=position.high_water_mark, stop=position.trailing_stop_price, rules=rules,
        )
        position.last_updated = now
        changed.append(position)
    if changed:
        bulk_update_rows(changed, UPDATED_FIELDS, batch_size=BULK_BATCH_SIZE)
        transaction.on_commit(partial(events.publish_positions, changed, now))
    result.count("refreshed", len(changed))
    return changed

