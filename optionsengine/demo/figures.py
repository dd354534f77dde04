"""What happened, read back from the database after a replay: the demo prints and reports only
these figures, so they reconcile with the tables by construction, and `reconciliation` checks the
money three independent ways (SPEC §15): Σ realized P&L of exit fills (recomputed from fill and
entry prices) = Σ position `realized_pnl` = Σ `bias_trade_performance.realized_pnl`.

Figures are plain JSON-able values (Decimals as strings) and never include wall-clock times or
database ids, so two runs of one session give equal figures.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from django.db.models import Count, Sum

from optionsengine.demo.replay import ReplayLog
from optionsengine.lib import money
from positions_app.engines import performance

HUNDRED = money.CONTRACT_MULTIPLIER
ZERO = Decimal("0.00")


def collect(log: ReplayLog) -> dict:
    from bias_app.models import BiasTradePerformance
    from orders_app.models import Order, Trade
    from positions_app.models import Position
    from signals_app.models import Signal, WebhookEvent

    events = Counter()
    for row in WebhookEvent.objects.values("kind", "status").annotate(n=Count("pk")):
        events[(row["kind"], row["status"])] = row["n"]
    signal_events = {s: n for (k, s), n in sorted(events.items()) if k == "signal"}
    bias_events = {s: n for (k, s), n in sorted(events.items()) if k != "signal"}

    signals = Counter(Signal.objects.values_list("status", flat=True))
    rejected = Counter(Signal.objects.filter(status="rejected").values_list("rejection_reason", flat=True))

    orders = Counter((side, status) for side, status in Order.objects.values_list("side", "status"))
    order_failures = Counter(
        f"{side}: {reason}" for side, reason in
        Order.objects.exclude(failure_reason__isnull=True).exclude(failure_reason="").values_list("side", "failure_reason")
    )

    exit_fills = []
    for trade in Trade.objects.filter(order__side="exit").select_related("order", "order__position"):
        position = trade.order.position
        pnl = money.cash((trade.fill_price - position.entry_price) * trade.fill_quantity * HUNDRED)
        exit_fills.append((trade, position, pnl))
    exit_fills.sort(key=lambda item: (item[0].fill_timestamp, item[1].option_symbol, item[0].fill_quantity, item[2]))
    entry_fill_count = Trade.objects.filter(order__side="entry").count()

    exits: dict[str, dict] = {}
    for trade, _, pnl in exit_fills:
        row = exits.setdefault(trade.order.exit_reason or "(none)", {"fills": 0, "contracts": 0, "realized_pnl": ZERO})
        row["fills"] += 1
        row["contracts"] += trade.fill_quantity
        row["realized_pnl"] += pnl

    positions = list(Position.objects.order_by("entry_timestamp", "option_symbol", "initial_quantity"))
    by_engine: dict[str, list] = defaultdict(list)
    by_symbol: dict[str, list] = defaultdict(list)
    for position in positions:
        by_engine[position.engine or "?"].append(position)
        by_symbol[position.symbol].append(position)

    sum_fills = sum((pnl for _, _, pnl in exit_fills), ZERO)
    sum_trade_column = Trade.objects.filter(order__side="exit").aggregate(s=Sum("realized_pnl"))["s"] or ZERO
    sum_positions = sum((p.realized_pnl for p in positions), ZERO)
    # Trade performance is completed at the final close (SPEC §8), so it reconciles with the
    # realized P&L of closed positions; a position still open has realized partials only.
    sum_performance = BiasTradePerformance.objects.aggregate(s=Sum("realized_pnl"))["s"] or ZERO
    sum_closed_positions = sum((p.realized_pnl for p in positions if p.status == "closed"), ZERO)
    r_multiples = dict(BiasTradePerformance.objects.values_list("position_id", "pnl_r"))
    closed = [_closed_trade(p, r_multiples.get(p.pk)) for p in positions if p.status == "closed"]
    curve = performance.equity_curve(closed)
    overall = performance.summarize("total", closed)

    return _jsonable({
        "session": {"name": log.session.name, "alerts_in_file": len(log.session.alerts)},
        "run": {
            "first_tick": log.started_at, "last_tick": log.ended_at, "ticks": log.ticks,
            "close_out_days": log.close_out_days,
        },
        "deliveries": {
            "posted": len(log.deliveries),
            "by_outcome": dict(sorted(Counter(d.outcome for d in log.deliveries).items())),
            "audit_rows": sum(events.values()),
            "surprises": [_delivery_row(d) for d in log.surprises],
            "refused": [_delivery_row(d) for d in log.deliveries if d.outcome not in ("accepted", "duplicate", "out_of_order")],
        },
        "alerts": {"signal": signal_events, "bias": bias_events},
        "signals": {
            "total": sum(signals.values()),
            "approved": signals.get("approved", 0),
            "rejected": signals.get("rejected", 0),
            "pending": signals.get("pending", 0),
            "rejected_by_reason": dict(sorted(rejected.items(), key=lambda kv: (-kv[1], str(kv[0])))),
        },
        "orders": {f"{side}:{status}": n for (side, status), n in sorted(orders.items())},
        "order_failures": dict(sorted(order_failures.items())),
        "fills": {"entry": entry_fill_count, "exit": len(exit_fills)},
        "exits_by_reason": dict(sorted(exits.items(), key=lambda kv: (-kv[1]["fills"], kv[0]))),
        "positions": {
            "opened": len(positions),
            "closed": sum(1 for p in positions if p.status == "closed"),
            "still_open": sum(1 for p in positions if p.status != "closed"),
            "unrealized_pnl_open": sum((p.unrealized_pnl or ZERO for p in positions if p.status != "closed"), ZERO),
        },
        "pnl": {
            "by_engine": {engine: _group(rows, r_multiples) for engine, rows in sorted(by_engine.items())},
            "by_symbol": {symbol: _group(rows, r_multiples) for symbol, rows in sorted(by_symbol.items())},
            "total": _group(positions, r_multiples),
            "max_drawdown": performance.max_drawdown(curve),
            "win_rate_percent": overall.win_rate,
            "profit_factor": overall.profit_factor,
            "average_r": overall.average_r,
        },
        "reconciliation": {
            "exit_fills_recomputed": sum_fills,
            "exit_fills_trade_column": sum_trade_column,
            "positions_realized_pnl": sum_positions,
            "trade_performance_realized_pnl": sum_performance,
            "report_total": sum_positions,
            "closed_positions_realized_pnl": sum_closed_positions,
            "ok": sum_fills == sum_trade_column == sum_positions and sum_closed_positions == sum_performance,
        },
        "equity_curve": [[point.trade.closed_at, point.cumulative] for point in curve],
        "positions_table": [_position_row(p) for p in positions],
        "stage_counts": {f"{stage}:{outcome}": n for (stage, outcome), n in sorted(log.stage_counts.items())},
        "stage_failures": _failures(log),
    })


def _closed_trade(position, r_multiple) -> performance.ClosedTrade:
    # The id only breaks ties in closing order: entry time and contract, not the random uuid, so
    # two runs draw the same curve.
    return performance.ClosedTrade(
        position_id=f"{position.entry_timestamp.isoformat()}|{position.option_symbol}", symbol=position.symbol,
        engine=position.engine, closed_at=position.exit_timestamp, realized_pnl=position.realized_pnl,
        r_multiple=r_multiple,
    )


def _group(positions: list, r_multiples: dict) -> dict:
    """The P&L page's statistics (positions_app.engines.performance) over the closed positions,
    plus the realized P&L of every position (partial closes of open ones included)."""
    stats = performance.summarize("", [_closed_trade(p, r_multiples.get(p.pk)) for p in positions if p.status == "closed"])
    return {
        "positions": len(positions),
        "closed": stats.trades,
        "realized_pnl": sum((p.realized_pnl for p in positions), ZERO),
        "wins": stats.wins,
        "losses": stats.losses,
        "win_rate_percent": stats.win_rate,
        "profit_factor": stats.profit_factor,
    }


def _position_row(p) -> dict:
    return {
        "symbol": p.symbol, "option_symbol": p.option_symbol, "engine": p.engine, "setup_type": p.setup_type,
        "quantity": p.initial_quantity, "entry_time": p.entry_timestamp, "entry_price": p.entry_price,
        "exit_time": p.exit_timestamp, "exit_price": p.exit_price, "status": p.status,
        "exit_reason": p.exit_reason, "realized_pnl": p.realized_pnl,
        "unrealized_pnl": p.unrealized_pnl if p.status != "closed" else None,
    }


def _delivery_row(d) -> dict:
    alert = d.alert
    return {
        "line": alert.index, "at": alert.at, "path": alert.path, "expected": alert.expect, "outcome": d.outcome,
        "http": d.http_status, "detail": d.detail, "note": alert.note,
        "symbol": (alert.payload or {}).get("ticker") or (alert.payload or {}).get("symbol"),
    }


def _failures(log: ReplayLog) -> list[dict]:
    grouped: dict[tuple[str, str], dict] = {}
    for failure in log.failures:
        row = grouped.setdefault((failure.stage, failure.error), {
            "stage": failure.stage, "error": failure.error, "first_at": failure.at, "last_at": failure.at, "times": 0,
        })
        row["times"] += 1
        row["last_at"] = failure.at
    return list(grouped.values())


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
