"""django-q2 tasks: one per pipeline stage (SPEC §12).

Thin on purpose: read the clock, call the stage service, return a one-line summary (stored on the
django-q2 task row). Each task does one of two things:
- with a row id — the fast path, enqueued by `followups.after_commit` when the previous stage
  committed work for that row: process just that row;
- without — the periodic sweep (schedules.py, the cron endpoint): the whole stage, under the
  stage's sweep lease; when another process holds it the task skips.

All of them are idempotent (django-q2 delivers at least once): a second run finds the row already
moved on (`not_due`, `not_pending`, nothing claimed) and does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from optionsengine.leases import sweep_lease
from optionsengine.lib import clock
from optionsengine.pipeline.stage import StageResult

logger = logging.getLogger(__name__)

SKIPPED = "skipped"  # the count recorded when another process holds the sweep lease


def run_stage_sweep(stage: str, *, now: datetime | None = None) -> StageResult:
    """One leased sweep of `stage` (a name from `run_once.STAGES`, or `adaptive_tuner`).

    Shared by the sweep tasks and the cron endpoint so both honour the same lease. A stage that
    raises is reported as an error in the result, as `run_once` does.
    """
    from optionsengine.pipeline.run_once import run_once

    with sweep_lease(stage) as held:
        if not held:
            logger.info("%s sweep skipped: another process is sweeping", stage)
            skipped = StageResult(stage)
            skipped.count(SKIPPED)
            return skipped
        if stage == "adaptive_tuner":
            return _tuner_sweep(now or clock.now())
        (result,) = run_once(now=now or clock.now(), only={stage})
        return result


def _tuner_sweep(now: datetime) -> StageResult:
    from optionsengine.pipeline.tune import run_adaptive_tuner

    result = StageResult("adaptive_tuner")
    try:
        run = run_adaptive_tuner(now=now, dry_run=False, force=False)
    except Exception as exc:
        logger.exception("adaptive tuner failed")
        result.error(f"{type(exc).__name__}: {exc}")
        return result
    result.count(run.status)
    result.count("changes", len(run.changes))
    return result


def _summary(result: StageResult) -> str:
    line = result.summary_line()
    if result.errors:
        line += f" (first: {result.errors[0][:200]})"
    return line


# --- one task per stage ---------------------------------------------------------------------------


def orchestrate(signal_id: str | None = None) -> str:
    """Decide one pending signal (fast path), or sweep every due signal."""
    if signal_id is None:
        return _summary(run_stage_sweep("orchestrator"))
    from optionsengine.pipeline import orchestrate as stage

    result = stage.sweep(now=clock.now(), signal_ids=[signal_id])
    return f"orchestrator {signal_id}: " + ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()))


def create_orders(signal_id: str | None = None) -> str:
    """Create the entry order of one approved signal, or sweep every due approved signal."""
    if signal_id is None:
        return _summary(run_stage_sweep("order_creator"))
    from optionsengine.pipeline import create_orders as stage

    return f"order_creator {signal_id}: {stage.create_order_for_signal(signal_id, clock.now())}"


def execute(order_id: str | None = None) -> str:
    """Fill one pending paper order, or sweep every pending order."""
    if order_id is None:
        return _summary(run_stage_sweep("paper_executor"))
    from optionsengine.pipeline import execute as stage

    return f"paper_executor {order_id}: {stage.execute_order(order_id, clock.now())}"


def refresh(position_id: str | None = None) -> str:
    """Mark every open position (one batched pass; a position id only asks for a pass soon)."""
    return _summary(run_stage_sweep("position_refresher"))


def exits(position_id: str | None = None) -> str:
    """Evaluate exits for every open position (one batched pass)."""
    return _summary(run_stage_sweep("exit_monitor"))


def adaptive_tuner() -> str:
    """The daily tuner run (after the close); the service skips a day that already ran."""
    return _summary(run_stage_sweep("adaptive_tuner"))


# followups stage key → task path; the same dotted paths appear in schedules.py.
TASKS: dict[str, str] = {
    "orchestrate": "optionsengine.tasks.orchestrate",
    "create_orders": "optionsengine.tasks.create_orders",
    "execute": "optionsengine.tasks.execute",
    "refresh": "optionsengine.tasks.refresh",
    "exits": "optionsengine.tasks.exits",
}
