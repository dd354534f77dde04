"""The fast path (SPEC §12): a stage that commits work for a row asks for the next stage on commit.

`after_commit("create_orders", signal_id)` is the one call every stage makes. It registers, on
commit of the caller's transaction, a django-q2 task for that stage and row (`optionsengine.tasks`),
so a webhook → orchestrator → order creator → paper executor chain runs in well under a second
when a qcluster is running. A rolled-back transaction never triggers follow-up work.

The enqueue is best effort: when the queue is unusable (broker down, database busy) the failure is
logged and swallowed — the committing request has already succeeded, and the periodic sweeps pick
the row up. In django-q2 sync mode (tests) the task runs right here and its exceptions are
swallowed the same way.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from optionsengine.lib.queue_rows import TaskRow

logger = logging.getLogger(__name__)

STAGES = ("orchestrate", "create_orders", "execute", "refresh", "exits")


def after_commit(stage: str, row_id: object) -> None:
    """Run `stage` for `row_id` once the caller's transaction commits.

    With the ORM broker on PostgreSQL the task row is inserted right here, inside the caller's transaction: it
    commits atomically with the work it follows (a crash after COMMIT cannot lose it), and the
    webhook pays one more INSERT instead of a second transaction. django-q2 skips its
    connection housekeeping inside an atomic block, which otherwise reopened the connection on
    every enqueue. A failing enqueue is logged and left to the sweeps; should the INSERT itself
    fail, the database is failing and the request fails with it (TradingView retries a 500).
    The Redis broker (and sync mode, which would run the task inside this transaction) enqueue on
    commit instead.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    if _transactional_enqueue():
        _dispatch(stage, str(row_id))
    else:
        transaction.on_commit(lambda: _dispatch(stage, str(row_id)))


def after_commit_many(stage: str, row_ids) -> None:
    """`after_commit` for a batch a stage wrote in one transaction (e.g. exit orders for many
    positions). Always enqueued after COMMIT: one task INSERT per row inside the transaction would
    keep the batch's row locks held while they run."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    ids = [str(row_id) for row_id in row_ids]
    if ids:
        transaction.on_commit(lambda: [_dispatch(stage, row_id) for row_id in ids])


def task_row(stage: str, row_id: object) -> TaskRow | None:
    """The fast-path task of `after_commit(stage, row_id)` as a row, for a writer that inserts it in
    its own statement, or None when the follow-up must go through `after_commit` instead.

    Signal intake uses this on PostgreSQL with the ORM broker: the task commits atomically with the
    signal in the one statement batch that writes it, so the webhook pays no extra round trip for
    its fast path (separate INSERT, BEGIN and COMMIT were a third of its cost). None with the Redis
    broker, in sync mode (tests run the task inline), on SQLite, or with the fast path off.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    if not (
        getattr(settings, "PIPELINE_FAST_PATH", True)
        and settings.QUEUE_BROKER == "orm"
        and connection.vendor == "postgresql"
        and not settings.Q_CLUSTER.get("sync")
    ):
        return None
    from django_q.tasks import async_task

    from optionsengine.tasks import TASKS

    capture = _CapturingBroker()
    # sync=False: package the task even where django-q2's own config says sync (never run it here).
    async_task(TASKS[stage], str(row_id), task_name=f"{stage}:{row_id}"[:100], group=f"fast:{stage}", broker=capture, sync=False)
    return TaskRow(key=capture.list_key, payload=capture.package, lock=timezone.now())


class _CapturingBroker:
    """Stands in for the ORM broker in `async_task`: keeps the package it would have inserted, so the
    row is built by django-q2 itself (id, name, signing) and only the INSERT is ours."""

    def __init__(self) -> None:
        from django_q.conf import Conf

        self.list_key = Conf.CLUSTER_NAME
        self.package = ""

    def enqueue(self, package: str) -> None:
        self.package = package


def _transactional_enqueue() -> bool:
    connection = transaction.get_connection()
    return (
        settings.QUEUE_BROKER == "orm"
        and connection.vendor == "postgresql"  # SQLite keeps its one write transaction as short as it was
        and not settings.Q_CLUSTER.get("sync")
        and connection.in_atomic_block
    )


def _dispatch(stage: str, row_id: str) -> None:
    if not getattr(settings, "PIPELINE_FAST_PATH", True):
        logger.debug("follow-up %s for %s left to the next sweep (PIPELINE_FAST_PATH off)", stage, row_id)
        return
    from django_q.tasks import async_task

    from optionsengine.tasks import TASKS

    try:
        async_task(TASKS[stage], row_id, task_name=f"{stage}:{row_id}"[:100], group=f"fast:{stage}")
    except Exception:
        logger.warning("could not enqueue %s for %s; the next sweep will pick it up", stage, row_id, exc_info=True)
