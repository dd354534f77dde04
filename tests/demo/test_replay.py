"""The demo machinery on a short slice of the bundled session (the first hour of alerts, managed for
another half hour): its figures reconcile with the database, two runs give the same figures, and
the command writes a self-contained report with the SVG equity curve."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from bias_app.models import BiasTradePerformance
from optionsengine.demo.alerts import load_session
from optionsengine.demo.figures import collect
from optionsengine.demo.replay import ReplayOptions, replay
from optionsengine.demo.report import render_html
from optionsengine.lib.market_calendar import MARKET_TZ
from optionsengine.management.commands.demo import BUNDLED_SESSION
from orders_app.models import Order, Trade
from positions_app.models import Position
from signals_app.models import Signal, WebhookEvent

# Real commits: the bias state cache (Redis) is refreshed on commit, as in production; inside a
# test-wide transaction it would keep serving the first state it cached.
pytestmark = pytest.mark.django_db(transaction=True)
KEEP = {"ExitRule", "RiskLimit", "BiasConfig"}  # configuration the migrations seed


def short_session(minutes: int, manage_for: int):
    full = load_session(BUNDLED_SESSION)
    start = full.alerts[0].at
    alerts = tuple(a for a in full.alerts if a.at < start + timedelta(minutes=minutes))
    return dataclasses.replace(full, name="short", alerts=alerts, end=start + timedelta(minutes=minutes + manage_for))


def clear_pipeline_tables() -> None:
    """Everything a replay writes, so the same session can run again from scratch."""
    tables = [
        connection.ops.quote_name(model._meta.db_table)
        for label in ("signals_app", "orders_app", "positions_app", "bias_app", "optionsengine")
        for model in apps.get_app_config(label).get_models() if model.__name__ not in KEEP
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            with connection.constraint_checks_disabled():  # rows reference each other across tables
                for table in tables:
                    cursor.execute(f"DELETE FROM {table}")
    cache.clear()


def run(session):
    log = replay(session, options=ReplayOptions(close_out_days=0))
    return log, collect(log)


def test_figures_reconcile_with_the_database_and_repeat_exactly():
    session = short_session(minutes=75, manage_for=45)
    log, figures = run(session)

    assert not figures["stage_failures"], figures["stage_failures"]
    # every delivery has its audit row, with the outcome the figures report
    assert figures["deliveries"]["posted"] == len(session.alerts) == WebhookEvent.objects.count()
    audit = Counter(WebhookEvent.objects.filter(kind="signal").values_list("status", flat=True))
    assert figures["alerts"]["signal"] == dict(sorted(audit.items()))
    assert figures["alerts"]["signal"]["accepted"] == Signal.objects.count() > 5
    assert figures["alerts"]["signal"]["duplicate"] >= 1 and figures["alerts"]["signal"]["invalid_payload"] >= 1
    # signals by reason = the table
    rejected = Counter(Signal.objects.filter(status="rejected").values_list("rejection_reason", flat=True))
    assert figures["signals"]["rejected_by_reason"] == dict(rejected)
    assert figures["signals"]["approved"] == Signal.objects.filter(status="approved").count() >= 1
    # fills and exits by reason = the table
    assert figures["fills"] == {"entry": Trade.objects.filter(order__side="entry").count(),
                                "exit": Trade.objects.filter(order__side="exit").count()}
    exits = Counter(Order.objects.filter(side="exit", status="filled").values_list("exit_reason", flat=True))
    assert {k: v["fills"] for k, v in figures["exits_by_reason"].items()} == dict(exits)
    assert figures["fills"]["exit"] >= 1
    # money: Σ exit fills = Σ positions = Σ trade performance = the report's total
    recomputed = sum(
        ((t.fill_price - t.order.position.entry_price) * t.fill_quantity * 100).quantize(Decimal("0.01"))
        for t in Trade.objects.filter(order__side="exit").select_related("order__position")
    )
    positions = Position.objects.aggregate(s=Sum("realized_pnl"))["s"]
    performance = BiasTradePerformance.objects.aggregate(s=Sum("realized_pnl"))["s"] or Decimal("0")
    recon = figures["reconciliation"]
    assert recon["ok"] is True
    assert Decimal(recon["exit_fills_recomputed"]) == recomputed == positions == performance
    assert Decimal(figures["pnl"]["total"]["realized_pnl"]) == positions
    assert sum(Decimal(g["realized_pnl"]) for g in figures["pnl"]["by_engine"].values()) == positions
    closed = Position.objects.filter(status="closed").aggregate(s=Sum("realized_pnl"))["s"]
    if closed is not None:  # the equity curve steps at each close, as on the P&L page
        assert Decimal(figures["equity_curve"][-1][1]) == closed

    clear_pipeline_tables()
    _, again = run(session)
    assert again == figures


def test_command_writes_a_self_contained_report_with_the_equity_curve(tmp_path):
    session_file = tmp_path / "alerts.json"
    session = short_session(minutes=40, manage_for=20)
    import json

    raw = json.loads(BUNDLED_SESSION.read_text())
    end = session.alerts[-1].at
    raw["alerts"] = [a for a in raw["alerts"] if _at(a) <= end]
    raw["end"] = session.end.isoformat()
    session_file.write_text(json.dumps(raw))
    report = tmp_path / "report.html"
    out = StringIO()
    call_command("demo", "--file", str(session_file), "--report", str(report), "--in-place", "--no-progress",
                 "--close-out-days", "0", stdout=out)
    printed = out.getvalue()
    assert "reconciliation:" in printed and ": OK" in printed
    assert f"report: {report}" in printed
    html = report.read_text()
    assert html.startswith("<!doctype html>") and '<svg id="equity-curve"' in html or "id=equity-curve" in html
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(src|href)\s*=""", html)  # nothing to fetch: self-contained


def test_equity_svg_draws_a_path_through_every_fill():
    curve = [["2026-03-10T14:00:00+00:00", "120.00"], ["2026-03-10T15:00:00+00:00", "-40.00"],
             ["2026-03-10T16:30:00+00:00", "75.50"]]
    from optionsengine.demo.report import equity_svg

    svg = equity_svg(curve)
    assert svg.startswith("<svg") and svg.count("<circle") == 3 and "$75.50" in svg
    assert "No position was closed" in equity_svg([])


def _at(entry):
    from datetime import datetime

    return datetime.fromisoformat(entry["at"])


def test_report_renders_failures_and_surprises():
    figures = {
        "session": {"name": "x", "alerts_in_file": 1},
        "run": {"first_tick": "2026-03-10T14:00:00+00:00", "last_tick": "2026-03-10T15:00:00+00:00", "ticks": 2,
                "close_out_days": 0},
        "deliveries": {"posted": 1, "by_outcome": {}, "audit_rows": 1, "refused": [], "surprises": [
            {"line": 3, "at": "2026-03-10T14:00:00+00:00", "path": "/webhook", "expected": "accepted",
             "outcome": "invalid_payload", "http": 400, "detail": "Invalid payload: event must be an object",
             "note": None, "symbol": "SPY"}]},
        "alerts": {"signal": {}, "bias": {}},
        "signals": {"total": 0, "approved": 0, "rejected": 0, "pending": 0, "rejected_by_reason": {}},
        "orders": {}, "order_failures": {}, "fills": {"entry": 0, "exit": 0}, "exits_by_reason": {},
        "positions": {"opened": 0, "closed": 0, "still_open": 0, "unrealized_pnl_open": "0.00"},
        "pnl": {"by_engine": {}, "by_symbol": {}, "max_drawdown": "0.00", "win_rate_percent": None,
                "profit_factor": None, "total": {"positions": 0, "closed": 0, "realized_pnl": "0.00", "wins": 0,
                                                 "losses": 0, "win_rate_percent": None, "profit_factor": None}},
        "reconciliation": {"exit_fills_recomputed": "0.00", "exit_fills_trade_column": "0.00",
                           "positions_realized_pnl": "0.00", "trade_performance_realized_pnl": "0.00",
                           "report_total": "0.00", "ok": True},
        "equity_curve": [], "positions_table": [], "stage_counts": {},
        "stage_failures": [{"stage": "paper_executor", "error": "ImportError: boom", "times": 3,
                            "first_at": "2026-03-10T14:00:00+00:00", "last_at": "2026-03-10T14:02:00+00:00"}],
    }
    html = render_html(figures, logged_errors=["ERROR x: Traceback ..."])
    assert "Stage failures" in html and "ImportError: boom" in html and "event must be an object" in html


def test_ticks_cover_regular_hours_and_off_hours_alerts_only():
    from optionsengine.demo.alerts import parse_session
    from optionsengine.demo.replay import session_ticks

    session = parse_session([
        {"at": "2026-03-09T20:00:00-04:00", "raw": "x"},  # Monday evening: one tick right after it
        {"at": "2026-03-10T15:58:30-04:00", "raw": "y"},
    ])
    ticks = session_ticks(session, step_minutes=1)
    ny = [t.astimezone(MARKET_TZ).strftime("%m-%d %H:%M") for t in ticks]
    assert ny[0] == "03-09 20:00" and ny[1] == "03-10 09:30" and ny[-1] == "03-10 16:00"
    assert len(ticks) == 1 + 391


def test_close_out_manages_following_trading_days_until_flat(monkeypatch):
    from optionsengine.demo import replay as replay_module
    from optionsengine.demo.replay import ReplayLog, _close_out_ticks, _Progress

    session = load_session(BUNDLED_SESSION)
    log = ReplayLog(session=session, ticks=10, ended_at=session.alerts[-1].at)
    left = iter([True] + [True] * 30 + [False])
    monkeypatch.setattr(replay_module, "work_left", lambda: next(left))
    ticks = list(_close_out_ticks(log, ReplayOptions(close_out_step_minutes=15, close_out_days=3), _Progress()))
    days = {t.astimezone(MARKET_TZ).date().isoformat() for t in ticks}
    assert days == {"2026-03-11", "2026-03-12"} and len(ticks) == 31  # 27 on Wednesday, flat after 4 on Thursday
    assert ticks[0].astimezone(MARKET_TZ).strftime("%H:%M") == "09:30"
