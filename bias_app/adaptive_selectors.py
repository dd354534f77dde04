"""Reads for the adaptive-tuner API: change history and status (rolling statistics computed now
from `bias_trade_performance` by the tuner's own pure engine, so they match what a run would see)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from bias_app.engines.tuner import BOUNDS, MAX_TRADES, MIN_TRADES, WINDOW_DAYS, TradeSample, rolling_stats
from bias_app.models import BiasAdaptiveConfigHistory, BiasTradePerformance
from bias_app.selectors import get_bias_config


def list_adaptive_history(*, parameter=None, dry_run=None, since=None, until=None):
    rows = BiasAdaptiveConfigHistory.objects.all()
    if parameter:
        rows = rows.filter(parameter_name=parameter)
    if dry_run is not None:
        rows = rows.filter(dry_run=dry_run)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    return rows.order_by("-created_at", "id")


def _samples(now: datetime) -> list[TradeSample]:
    sources = list(getattr(settings, "ADAPTIVE_TUNER_SOURCES", ["live"]))
    rows = (
        BiasTradePerformance.objects.filter(source__in=sources, closed_at__gte=now - timedelta(days=WINDOW_DAYS),
                                            closed_at__lte=now, pnl_percent__isnull=False)
        .order_by("-closed_at")
        .values("closed_at", "pnl_percent", "pnl_r", "entry_regime", "entry_intent", "entry_macro_class",
                "entry_acceleration", "exit_reason_codes")[:MAX_TRADES]
    )
    return [TradeSample(closed_at=r["closed_at"], pnl_percent=r["pnl_percent"], pnl_r=r["pnl_r"],
                        entry_regime=r["entry_regime"], entry_intent=r["entry_intent"],
                        entry_macro_class=r["entry_macro_class"], entry_acceleration=r["entry_acceleration"],
                        exit_reason_codes=tuple(str(c) for c in (r["exit_reason_codes"] or ())))
            for r in rows]


def get_adaptive_status(*, now: datetime) -> dict:
    adaptive = get_bias_config("adaptive")
    risk = get_bias_config("risk")
    last_applied = (BiasAdaptiveConfigHistory.objects.filter(dry_run=False).order_by("-created_at")
                    .values_list("created_at", flat=True).first())
    metrics = rolling_stats(_samples(now), now).as_metrics()
    parameters = {name: (adaptive if bound.config_key == "adaptive" else risk).get(name) for name, bound in BOUNDS.items()}
    return {
        "adaptiveEnabled": bool(adaptive.get("enabled", True)),
        "e2eTestMode": bool(getattr(settings, "E2E_TEST_MODE", False)),
        "lastAdaptiveUpdate": last_applied.isoformat() if last_applied else None,
        "lastRunDate": adaptive.get("lastRunDate"),
        "lastDryRunDate": adaptive.get("lastDryRunDate"),
        "lastRunSummary": adaptive.get("lastRunSummary"),
        "windowDays": WINDOW_DAYS,
        "minTrades": MIN_TRADES,
        "tradeCount": metrics["tradeCount"],
        "rollingWinRate": metrics["winRate"],
        "rollingAvgPnlPercent": metrics["avgPnlPercent"],
        "rollingAvgR": metrics["avgR"],
        "breakoutInRangeWinRate": metrics["breakoutInRange"]["winRate"],
        "macroDriftExitAvgPnlPercent": metrics["macroDriftExits"]["avgPnlPercent"],
        "parameters": parameters,
        "manualRunAvailable": True,
    }
