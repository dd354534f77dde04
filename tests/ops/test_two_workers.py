"""PostgreSQL only: two real `manage.py qcluster` processes over a stream of 200 alerts (SPEC §12, §15).

Phase 1: 200 alerts go through the real webhook (Django test client, in this process); the fast path
enqueues each stage's task into the queue the two clusters share (Redis when REDIS_URL is set, else
the ORM broker), and the test also enqueues stage sweeps while it posts, so sweeps race the fast
path across both clusters as the schedules would. Phase 2: the clusters are restarted with
EMERGENCY_RISK_OFF=true and exit-monitor sweeps are enqueued, so every open position is closed.

Checked: every signal claimed (decided) exactly once — Σ `claimed` over every orchestrator task run
equals the signal count; one entry order per approved signal; one trade per order; one position per
entry fill; one exit fill per position; P&L reconciles (Σ exit-fill realized = Σ position realized =
Σ trade-performance realized, and per position). The clock is frozen for every process
(OPTIONSENGINE_NOW) at a regular-hours instant.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum

from bias_app.models import BiasTradePerformance
from optionsengine.lib import clock
from orders_app.models import Order, RiskLimit, Trade
from positions_app.models import Position
from signals_app.models import Experiment, Signal
from tests.pipeline.builders import NOW, seed_bias

ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = tuple(f"TW{i:02d}" for i in range(20))
TIMEFRAMES = ("5", "15", "30", "60", "240")
ALERTS = 200
PHASE_SECONDS = 45  # each phase's deadline (both normally take a fraction of it)


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Workers:
    """Two qcluster processes (each in its own process group); always stopped by `stop()`."""

    def __init__(self, queue: str, broker: str):
        self.queue, self.broker, self.procs = queue, broker, []

    def start(self, **extra: str) -> None:
        base = {k: v for k, v in os.environ.items() if k not in ("QUEUE_BROKER", "PROMETHEUS_MULTIPROC_DIR")}
        env = {
            **base, "DJANGO_SETTINGS_MODULE": "tests.ops.two_workers_settings", "DATABASE_URL": _database_url(),
            "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "localhost", "OPTIONSENGINE_NOW": NOW.isoformat(),
            "QUEUE_BROKER": self.broker, "Q_WORKERS": "2", "TWO_WORKERS_QUEUE": self.queue, "LOG_LEVEL": "WARNING",
            "PIPELINE_FAST_PATH": "true", "REALTIME_CHANNEL": f"optionsengine:{self.queue}", "PYTHONPATH": str(ROOT),
            "CONN_MAX_AGE": "0", "WEBHOOK_AUTH": "off", **extra,
        }
        for n in range(2):
            self.procs.append(subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env={**env, "INSTANCE_ID": f"{self.queue}-{n}"},
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
            ))

    def stop(self) -> list[str]:
        """Stop both clusters (SIGTERM, then SIGKILL of their groups); returns their stderr tails."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        tails = []
        for proc in self.procs:
            try:
                _, err = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                _, err = proc.communicate(timeout=10)
            tails.append((err or "")[-3000:])
        for proc in self.procs:  # stray children of a cluster (its workers), by the group we created
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass
        self.procs = []
        return tails

    def assert_alive(self) -> None:
        for proc in self.procs:
            assert proc.poll() is None, f"a qcluster exited: {proc.stderr.read()[-3000:]}"


@pytest.fixture
def queue(monkeypatch):
    """This test's own django-q2 queue: tasks enqueued here go to the clusters, not run inline."""
    from django_q.conf import Conf

    name = f"two-workers-{uuid.uuid4().hex[:8]}"
    broker = "redis" if settings.REDIS_URL else "orm"
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    if broker == "redis":
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "DJANGO_REDIS", None)
        monkeypatch.setattr(Conf, "REDIS", settings.REDIS_URL)
    workers = Workers(name, broker)
    try:
        yield workers
    finally:
        workers.stop()
        from django_q.brokers import get_broker

        try:
            get_broker(name).delete_queue()  # whatever is left of this test's queue
        except Exception:
            pass


def _enqueue(func: str, *args) -> None:
    from django_q.tasks import async_task

    async_task(f"optionsengine.tasks.{func}", *args, group="two-workers-test")


def _wait(condition, seconds: float, workers: Workers, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        workers.assert_alive()
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def _claimed_per_signal() -> tuple[int, Counter]:
    """Σ `claimed` over every orchestrator task run, and claims per signal from the targeted runs."""
    from django_q.models import Task

    total, per_signal = 0, Counter()
    for name, result in Task.objects.filter(func="optionsengine.tasks.orchestrate").values_list("name", "result"):
        match = re.search(r"claimed=(\d+)", str(result))
        claimed = int(match.group(1)) if match else 0
        total += claimed
        if name and name.startswith("orchestrate:") and claimed:
            per_signal[name.split(":", 1)[1]] += claimed
    return total, per_signal


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_qclusters_over_200_alerts_do_everything_once_and_reconcile(client, queue):
    from django_q.models import Failure

    RiskLimit.objects.update(max_open_positions=0, max_positions_per_symbol=0, max_daily_loss=0)
    for n, symbol in enumerate(SYMBOLS):
        seed_bias(symbol, "BULLISH" if n % 2 == 0 else "BEARISH", at=NOW)

    # --- phase 1: the stream --------------------------------------------------------------------
    queue.start()
    with clock.override(NOW):
        for i in range(ALERTS):  # (symbol, timeframe, direction) is unique per alert: no duplicates
            body = {"ticker": SYMBOLS[i % 20], "timeframe": TIMEFRAMES[(i // 20) % 5],
                    "direction": ("long", "short")[i // 100], "confidence": 80, "timestamp": NOW.isoformat()}
            response = client.post("/webhook", data=body, content_type="application/json")
            assert response.status_code == 201, response.content
            if i % 40 == 39:  # sweeps racing the fast path, as the schedules would run them
                for stage in ("orchestrate", "create_orders", "execute"):
                    _enqueue(stage)
    assert Signal.objects.count() == ALERTS

    def settled() -> bool:
        return (not Signal.objects.filter(status=Signal.Status.PENDING).exists()
                and Order.objects.filter(side=Order.Side.ENTRY).count()
                == Signal.objects.filter(status=Signal.Status.APPROVED).count()
                and not Order.objects.filter(status=Order.Status.PENDING_EXECUTION).exists())

    try:
        _wait(settled, PHASE_SECONDS, queue, "every alert decided and every approved one filled")
        for stage in ("orchestrate", "create_orders", "execute"):  # one more sweep each: must find nothing
            _enqueue(stage)
        from django_q.models import Task

        _wait(lambda: Task.objects.filter(group="two-workers-test").count() >= 18, PHASE_SECONDS, queue,
              "the sweeps to run")
    finally:
        tails = queue.stop()
    assert not Failure.objects.exists(), [tails, list(Failure.objects.values_list("name", "result")[:5])]

    statuses = Counter(Signal.objects.values_list("status", flat=True))
    approved = statuses[Signal.Status.APPROVED]
    assert statuses[Signal.Status.APPROVED] + statuses[Signal.Status.REJECTED] == ALERTS, statuses
    assert approved >= 3, statuses  # enough positions for the close phase to mean something
    total_claimed, per_signal = _claimed_per_signal()
    assert total_claimed == ALERTS  # no signal decided twice, by two clusters or a sweep and the fast path
    assert all(n == 1 for n in per_signal.values())
    assert Experiment.objects.count() == Signal.objects.exclude(experiment_id=None).count()
    assert Signal.objects.filter(processing_lock=True).count() == 0

    entries = Order.objects.filter(side=Order.Side.ENTRY)
    assert entries.count() == approved  # one entry order per approved signal
    assert entries.values("signal_id").distinct().count() == approved
    assert set(entries.values_list("signal_id", flat=True)) == set(
        Signal.objects.filter(status=Signal.Status.APPROVED).values_list("signal_id", flat=True))
    assert not entries.exclude(status=Order.Status.FILLED).exists()
    assert Trade.objects.count() == approved  # one trade per order
    assert not Trade.objects.values("order_id").annotate(n=Count("trade_id")).filter(n__gt=1).exists()
    assert Position.objects.count() == approved  # one position per entry fill
    assert Position.objects.filter(status=Position.Status.OPEN).count() == approved

    # --- phase 2: close everything ----------------------------------------------------------------
    queue.start(EMERGENCY_RISK_OFF="true")
    try:
        for _ in range(3):  # overlapping exit sweeps: the lease lets one run at a time
            _enqueue("exits")

        def closed() -> bool:
            if Position.objects.exclude(status=Position.Status.CLOSED).exists():
                if not Order.objects.filter(side=Order.Side.EXIT, status=Order.Status.PENDING_EXECUTION).exists():
                    _enqueue("exits")  # an open position and nothing in flight: sweep again
                return False
            return True

        _wait(closed, PHASE_SECONDS, queue, "every position closed")
        _enqueue("exits")
        _enqueue("execute")
        time.sleep(1.0)  # a last pair of sweeps: must create and fill nothing more
    finally:
        tails = queue.stop()
    assert not Failure.objects.exists(), [tails, list(Failure.objects.values_list("name", "result")[:5])]

    exits = Order.objects.filter(side=Order.Side.EXIT)
    assert exits.count() == approved  # one close per position
    assert exits.values("position_id").distinct().count() == approved
    assert not exits.exclude(status=Order.Status.FILLED).exists()
    assert set(exits.values_list("exit_reason", flat=True)) == {"emergency_risk_off"}
    exit_trades = Trade.objects.filter(order__side=Order.Side.EXIT)
    assert exit_trades.count() == approved
    assert Trade.objects.count() == 2 * approved
    assert Position.objects.filter(status=Position.Status.CLOSED, quantity=0).count() == approved

    # --- P&L reconciles, in total and per position -------------------------------------------------
    fills = exit_trades.aggregate(s=Sum("realized_pnl"))["s"]
    positions = Position.objects.aggregate(s=Sum("realized_pnl"))["s"]
    performance = BiasTradePerformance.objects.aggregate(s=Sum("realized_pnl"))["s"]
    assert fills is not None and fills == positions == performance, (fills, positions, performance)
    assert BiasTradePerformance.objects.filter(realized_pnl__isnull=False).count() == approved
    for position in Position.objects.all():
        realized = sum((t.realized_pnl for t in exit_trades.filter(order__position_id=position.pk)), Decimal(0))
        assert realized == position.realized_pnl
        expected = ((position.exit_price - position.entry_price) * position.initial_quantity * 100).quantize(Decimal("0.01"))
        assert realized == expected, (position.symbol, realized, expected)
