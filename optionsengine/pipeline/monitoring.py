"""Pipeline monitor (SPEC §13): the 24 h funnel, rejections by reason, the stuck stage, last
activity per stage and the market-data breakers — one read-only snapshot.

`monitoring_status(now=…, window_hours=24, traffic="all")` is read by `GET
/api/monitoring/status` and the `/ops/` page. A fixed number of queries (about 20) whatever the table
sizes; every query is an aggregate or a single indexed row.

Funnel: webhooks are the `/webhook` deliveries of the window (kind `signal`, by status); the
other steps follow the window's signals as a cohort — signal → approved → entry order → entry fill
→ position closed — so each number is a subset of the one before it.

Stuck stage: for each stage the oldest item waiting for it, and whether it has waited longer than
the stage's expected interval (two sweeps of its schedule, SPEC §12: a sweep may have just
missed it). Items deliberately parked are not waiting: signals queued for the open or deferred to
`next_retry_at` count from when they are due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from optionsengine.lib import market_calendar
from orders_app.models import Order, Trade
from positions_app.models import Position
from signals_app.models import RefactoredSignal, Signal, WebhookEvent

TRAFFIC_CHOICES = ("all", "production", "test")
REJECTION_REASONS_LIMIT = 25
# Sweep intervals of SPEC §12, in seconds; an item is overdue after two of them.
SWEEP_SECONDS = {"orchestrator": 30, "order_creator": 30, "executor": 10, "refresher": 60, "exit_fill": 10}
EXPECTED_SECONDS = {stage: 2 * seconds for stage, seconds in SWEEP_SECONDS.items()}


@dataclass(frozen=True)
class StageBacklog:
    stage: str
    description: str
    pending: int
    oldest_id: str | None
    oldest_since: datetime | None
    age_seconds: int | None
    expected_seconds: int
    stuck: bool


def _traffic(queryset, traffic: str, field: str = "is_test"):
    if traffic == "production":
        return queryset.filter(**{field: False})
    if traffic == "test":
        return queryset.filter(**{field: True})
    return queryset


def _backlog(stage: str, description: str, queryset, since_field: str, id_field: str, now: datetime) -> StageBacklog:
    pending = queryset.count()
    oldest = queryset.order_by(since_field).values(id_field, since_field).first()  # always: constant queries
    since = oldest[since_field] if oldest else None
    age = int((now - since).total_seconds()) if since is not None else None
    expected = EXPECTED_SECONDS[stage]
    return StageBacklog(stage, description, pending, str(oldest[id_field]) if oldest else None, since, age, expected,
                        age is not None and age > expected)


def _backlogs(now: datetime, traffic: str) -> list[StageBacklog]:
    due = Q(queued_until__isnull=True) | Q(queued_until__lte=now)
    retry_due = Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now)
    signals = _traffic(Signal.objects.all(), traffic)
    orchestrator = (
        signals.filter(status=Signal.Status.PENDING, processed=False).filter(due).filter(retry_due)
        .annotate(waiting_since=Coalesce("next_retry_at", "queued_until", "created_at"))
    )
    has_entry = Order.objects.filter(signal=OuterRef("pk"), side=Order.Side.ENTRY)
    order_creator = (
        signals.filter(status=Signal.Status.APPROVED).filter(retry_due).exclude(Exists(has_entry))
        .annotate(waiting_since=Coalesce("next_retry_at", "refactored__processed_at", "created_at"))
    )
    executor = _traffic(Order.objects.filter(status=Order.Status.PENDING_EXECUTION), traffic)
    refresher = _traffic(Position.objects.filter(status__in=(Position.Status.OPEN, Position.Status.CLOSING)), traffic)
    pending_exit = Order.objects.filter(position=OuterRef("pk"), side=Order.Side.EXIT,
                                        status=Order.Status.PENDING_EXECUTION)
    closing = _traffic(Position.objects.filter(status=Position.Status.CLOSING), traffic).exclude(Exists(pending_exit))
    return [
        _backlog("orchestrator", "pending signals due for a decision", orchestrator, "waiting_since", "signal_id", now),
        _backlog("order_creator", "approved signals without an entry order", order_creator, "waiting_since",
                 "signal_id", now),
        _backlog("executor", "orders pending execution (entries and exits)", executor, "created_at", "order_id", now),
        _backlog("refresher", "open positions by last mark", refresher, "last_updated", "position_id", now),
        _backlog("exit_fill", "closing positions without a pending exit order", closing, "last_updated",
                 "position_id", now),
    ]


def _funnel(since: datetime, traffic: str) -> dict:
    webhooks = _traffic(WebhookEvent.objects.filter(created_at__gte=since, kind=WebhookEvent.Kind.SIGNAL), traffic)
    by_status = dict(webhooks.values_list("status").annotate(n=Count("event_id")).values_list("status", "n"))
    cohort = _traffic(Signal.objects.filter(created_at__gte=since), traffic)
    # Exit orders have no signal, so `orders` here is the (unique) entry order of each signal.
    counts = cohort.aggregate(
        n_signals=Count("signal_id", distinct=True),
        n_pending=Count("signal_id", filter=Q(status=Signal.Status.PENDING), distinct=True),
        n_approved=Count("signal_id", filter=Q(status=Signal.Status.APPROVED), distinct=True),
        n_rejected=Count("signal_id", filter=Q(status=Signal.Status.REJECTED), distinct=True),
        n_orders=Count("signal_id", filter=Q(orders__isnull=False), distinct=True),
        n_orders_failed=Count("signal_id", filter=Q(orders__status__in=(Order.Status.FAILED, Order.Status.EXPIRED,
                                                                        Order.Status.CANCELLED)), distinct=True),
        n_fills=Count("signal_id", filter=Q(orders__trade__isnull=False), distinct=True),
        n_open=Count("signal_id", filter=Q(orders__opened_position__status__in=(Position.Status.OPEN,
                                                                                Position.Status.CLOSING)),
                     distinct=True),
        n_closed=Count("signal_id", filter=Q(orders__opened_position__status=Position.Status.CLOSED), distinct=True),
        sum_realized_pnl=Sum("orders__opened_position__realized_pnl"),
    )
    counts = {name.split("_", 1)[1]: value for name, value in counts.items()}  # aliases must not shadow relations
    webhook_counts = {status: by_status.get(status, 0) for status in WebhookEvent.Status.values}
    return {
        "webhooks": sum(by_status.values()),
        "webhooks_by_status": webhook_counts,
        **counts,
    }


def _last_activity(traffic: str) -> dict[str, datetime | None]:
    exits = Order.objects.filter(side=Order.Side.EXIT)
    return {
        "webhook": _traffic(WebhookEvent.objects.all(), traffic).aggregate(at=Max("created_at"))["at"],
        "signal": _traffic(Signal.objects.all(), traffic).aggregate(at=Max("created_at"))["at"],
        "decision": _traffic(RefactoredSignal.objects.all(), traffic, "signal__is_test")
        .aggregate(at=Max("processed_at"))["at"],
        "entry_order": _traffic(Order.objects.filter(side=Order.Side.ENTRY), traffic).aggregate(at=Max("created_at"))["at"],
        "fill": _traffic(Trade.objects.all(), traffic).aggregate(at=Max("fill_timestamp"))["at"],
        "position_mark": _traffic(Position.objects.all(), traffic).aggregate(at=Max("last_updated"))["at"],
        "exit_order": _traffic(exits, traffic).aggregate(at=Max("created_at"))["at"],
        "close": _traffic(Position.objects.all(), traffic).aggregate(at=Max("exit_timestamp"))["at"],
    }


def monitoring_status(*, now: datetime, window_hours: int = 24, traffic: str = "all") -> dict:
    """The monitor's data. `traffic`: all, production (is_test false) or test."""
    from optionsengine.marketdata import health_status

    if traffic not in TRAFFIC_CHOICES:
        raise ValueError(f"traffic must be one of {TRAFFIC_CHOICES}")
    since = now - timedelta(hours=window_hours)
    rejections = (
        _traffic(Signal.objects.filter(created_at__gte=since, status=Signal.Status.REJECTED), traffic)
        .values("rejection_reason").annotate(count=Count("signal_id"), last_at=Max("created_at"))
        .order_by("-count", "rejection_reason")[:REJECTION_REASONS_LIMIT]
    )
    backlogs = _backlogs(now, traffic)
    stuck = next((b.stage for b in backlogs if b.stuck), None)
    session = market_calendar.session_at(now)
    return {
        "generated_at": now,
        "window_hours": window_hours,
        "since": since,
        "traffic": traffic,
        "market": {"session": getattr(session, "value", str(session)),
                   "is_open": market_calendar.is_regular_hours(now),
                   "next_open": market_calendar.next_open(now)},
        "funnel": _funnel(since, traffic),
        "rejections_by_reason": [
            {"reason": row["rejection_reason"] or "unknown", "count": row["count"], "last_at": row["last_at"]}
            for row in rejections
        ],
        "stages": backlogs,
        "stuck_stage": stuck,
        "last_activity": _last_activity(traffic),
        "providers": health_status(),
    }

