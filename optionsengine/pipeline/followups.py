"""The fast path (SPEC §12): a stage that commits work for a row asks for the next stage on commit.

`after_commit("create_orders", signal_id)` is the one call every stage makes. Until the workers
exist (operations issue) dispatch only logs: the periodic sweeps and `run_pipeline_once` pick the
row up. Registered on commit so a rolled-back decision never triggers follow-up work.
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)

STAGES = ("orchestrate", "create_orders", "execute", "refresh", "exits")


def after_commit(stage: str, row_id: object) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    transaction.on_commit(lambda: _dispatch(stage, str(row_id)))


def _dispatch(stage: str, row_id: str) -> None:
    logger.debug("follow-up %s for %s (picked up by the next sweep)", stage, row_id)
