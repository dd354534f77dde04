"""Stage 8 — adaptive tuner service (SPEC §11): trade performance → bounded config changes.

`run_adaptive_tuner(*, now, dry_run=False, force=False)` is the one entry point behind the daily
schedule (`sweep`), `manage.py run_adaptive_tuner`, `POST /api/bias/run-adaptive` and the bias
config admin action. One transaction per run:
1. lock the `adaptive` config row (two runs serialize; the second sees the first's date);
2. dry run when asked, when `E2E_TEST_MODE` is on, or when `adaptive.enabled` is false (the
   original's admin route applied changes even then);
3. an applied run happens at most once per New York trading day, unless forced: the date is
   persisted as `adaptive.lastRunDate` (the original kept it in memory, per process). Dry runs
   are never skipped and never consume the day (they record `lastDryRunDate`);
4. rolling statistics and proposals from the pure `bias_app.engines.tuner`;
5. one `bias_adaptive_config_history` row per proposed change, dry-run or applied;
6. applied changes (risk multipliers and `macroDriftThreshold`) and `lastRunSummary` are written
   through `bias_app.services.config`, which drops the cached config on commit: the exit monitor
   and the risk model read tuned values within the accessor's 30 s cache.
Settings read: E2E_TEST_MODE, ADAPTIVE_TUNER_SOURCES (default ["live"]).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from bias_app.engines.config import merge_config
from bias_app.engines.tuner import MAX_TRADES, MIN_TRADES, WINDOW_DAYS, ProposedChange, TradeSample, propose_changes, rolling_stats
from bias_app.models import BiasAdaptiveConfigHistory, BiasConfig, BiasTradePerformance
from bias_app.services.config import update_bias_config
from optionsengine.lib import market_calendar
from optionsengine.lib.transactions import entry_point_transaction, require_transaction
from optionsengine.pipeline.stage import StageResult

logger = logging.getLogger(__name__)

STAGE = "adaptive_tuner"
# Outcomes of a run.
SKIPPED_ALREADY_RAN = "skipped_already_ran"
INSUFFICIENT_TRADES = "insufficient_trades"
NO_CHANGES = "no_changes"
DRY_RUN = "dry_run"
APPLIED = "applied"


@dataclass
class TunerRun:
    status: str
    dry_run: bool
    run_date: str
    metrics: dict = field(default_factory=dict)
    changes: list[ProposedChange] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "dryRun": self.dry_run,
            "runDate": self.run_date,
            "tunerUpdated": self.status == APPLIED,
            "parametersChanged": [
                {"configKey": c.config_key, "key": c.parameter, "oldValue": c.previous, "newValue": c.new, "reason": c.reason}
                for c in self.changes
            ],
            "metrics": self.metrics,
        }


def run_adaptive_tuner(*, now: datetime, dry_run: bool = False, force: bool = False) -> TunerRun:
    """Entry point: opens its own transaction (call it outside any)."""
    with entry_point_transaction():
        return tune(now=now, dry_run=dry_run, force=force)


def sweep(*, now: datetime) -> StageResult:
    """The daily schedule's callable (after the close)."""
    result = StageResult(STAGE)
    run = run_adaptive_tuner(now=now)
    result.count(run.status)
    result.count("changes", len(run.changes))
    return result


def _samples(now: datetime) -> list[TradeSample]:
    sources = list(getattr(settings, "ADAPTIVE_TUNER_SOURCES", ["live"]))
    rows = (
        BiasTradePerformance.objects.filter(
            source__in=sources, closed_at__gte=now - timedelta(days=WINDOW_DAYS), closed_at__lte=now,
            pnl_percent__isnull=False,
        )
        .order_by("-closed_at")
        .values(
            "closed_at", "pnl_percent", "pnl_r", "entry_regime", "entry_intent", "entry_macro_class",
            "entry_acceleration", "exit_reason_codes",
        )[:MAX_TRADES]
    )
    return [
        TradeSample(
            closed_at=row["closed_at"], pnl_percent=row["pnl_percent"], pnl_r=row["pnl_r"],
            entry_regime=row["entry_regime"], entry_intent=row["entry_intent"],
            entry_macro_class=row["entry_macro_class"], entry_acceleration=row["entry_acceleration"],
            exit_reason_codes=tuple(str(c) for c in (row["exit_reason_codes"] or ())),
        )
        for row in rows
    ]


def _stored(key: str, *, lock: bool) -> dict:
    rows = BiasConfig.objects.filter(config_key=key)
    if lock:
        rows = rows.select_for_update()
    value = rows.values_list("config_json", flat=True).first()
    return dict(value) if isinstance(value, dict) else {}


def tune(*, now: datetime, dry_run: bool, force: bool) -> TunerRun:
    """One tuner run. Requires the caller's transaction; locks the `adaptive` config row."""
    require_transaction()
    adaptive_stored = _stored("adaptive", lock=True)
    adaptive, _ = merge_config("adaptive", adaptive_stored)
    dry = bool(dry_run or getattr(settings, "E2E_TEST_MODE", False) or not adaptive.get("enabled", True))
    today = market_calendar.market_date(now).isoformat()
    if not dry and not force and adaptive_stored.get("lastRunDate") == today:
        return TunerRun(SKIPPED_ALREADY_RAN, dry, today)

    stats = rolling_stats(_samples(now), now)
    metrics = stats.as_metrics()
    risk_stored = _stored("risk", lock=True)
    risk, _ = merge_config("risk", risk_stored)
    changes = propose_changes(stats, risk, adaptive)
    if stats.trade_count < MIN_TRADES:
        status = INSUFFICIENT_TRADES
    elif not changes:
        status = NO_CHANGES
    else:
        status = DRY_RUN if dry else APPLIED
    run = TunerRun(status, dry, today, metrics, changes)

    history_metrics = {k: metrics[k] for k in ("tradeCount", "winRate", "avgPnlPercent", "avgR")}
    BiasAdaptiveConfigHistory.objects.bulk_create([
        BiasAdaptiveConfigHistory(
            config_key=c.config_key, parameter_name=c.parameter, previous_value=c.previous, new_value=c.new,
            reason=c.reason, rolling_metrics=history_metrics, dry_run=dry, created_at=now,
        )
        for c in changes
    ])
    new_adaptive = dict(adaptive_stored)
    if not dry:
        risk_changes = {c.parameter: c.new for c in changes if c.config_key == "risk"}
        if risk_changes:
            update_bias_config(key="risk", values={**risk_stored, **risk_changes})
        new_adaptive.update({c.parameter: c.new for c in changes if c.config_key == "adaptive"})
        new_adaptive["lastRunDate"] = today
    else:
        new_adaptive["lastDryRunDate"] = today
    new_adaptive["lastRunSummary"] = {**run.as_dict(), "at": now.isoformat()}
    update_bias_config(key="adaptive", values=new_adaptive)
    logger.info("adaptive tuner: %s (%d change(s), dry run %s)", status, len(changes), dry)
    return run
