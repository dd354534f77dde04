"""Run every built stage once, in pipeline order (SPEC §12–§13).

The one function behind `manage.py run_pipeline_once`, the cron endpoint and the periodic sweeps.
Each stage is `sweep(*, now) -> StageResult`; a stage that raises is reported as an error and the
next stage still runs (its input may already be waiting).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from importlib import import_module

from optionsengine.lib import clock
from optionsengine.observability.metrics import observe_stage
from optionsengine.pipeline.stage import StageResult

logger = logging.getLogger(__name__)

# (stage name, "module:function"), in pipeline order. Imported lazily so one broken stage
# cannot stop the others from loading.
STAGES: list[tuple[str, str]] = [
    ("orchestrator", "optionsengine.pipeline.orchestrate:sweep"),
    ("order_creator", "optionsengine.pipeline.create_orders:sweep"),
    ("paper_executor", "optionsengine.pipeline.execute:sweep"),
    ("position_refresher", "optionsengine.pipeline.refresh:sweep"),
    ("exit_monitor", "optionsengine.pipeline.exits:sweep"),
]


def _resolve(path: str) -> Callable[..., StageResult]:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


def run_once(*, now: datetime | None = None, only: set[str] | None = None) -> list[StageResult]:
    results: list[StageResult] = []
    for name, path in STAGES:
        if only and name not in only:
            continue
        moment = now or clock.now()
        try:
            results.append(observe_stage(name, _resolve(path))(now=moment))  # counted and timed for /metrics
        except Exception as exc:  # reported, not raised: the other stages still run
            logger.exception("stage %s failed", name)
            failed = StageResult(name)
            failed.error(f"{type(exc).__name__}: {exc}")
            results.append(failed)
    return results
